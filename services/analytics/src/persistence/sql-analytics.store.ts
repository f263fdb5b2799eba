import { type DatabaseConfig, InFlight, type OpenMigratedOptions, databaseNow, openMigrated, pruneBatch } from '@weft/db';
import type { DataSource } from 'typeorm';
import { AnalyticsError } from '../domain/analytics.errors';
import type { AggregateDelta, InsightWindow } from '../domain/analytics.types';
import { bucketOf, type DurationHistogram } from '../domain/duration-sketch.util';
import { hourOf } from '../domain/event-delta.util';
import type { AnalyticsStore, ErrorCodeRow, ReviewTotalsRow, RunBucketRow, RunTotalsRow, StepTotalsRow } from '../ports/analytics-store.port';
import { applyReviewEvent, reviewTotals } from './review-insights.sql';
import { ANALYTICS_MIGRATIONS, ANALYTICS_MIGRATIONS_TABLE } from './analytics-schema';

/** Step counters -> columns. */
const STEP_COLUMN = { completed: 'completed', failed: 'failed', retried: 'retried', skipped: 'skipped', canceled: 'canceled', timedOut: 'timed_out' } as const;
const RUN_COLUMN = {
  started: 'started',
  restarted: 'restarted',
  completed: 'completed',
  partiallyCompleted: 'partially_completed',
  failed: 'failed',
  canceled: 'canceled',
} as const;

/** The duration columns of both hourly tables, merged on conflict; `$k` is the sketch bucket (null: no duration). */
const durationMerge = (table: string, k: string) => `
  duration_count = ${table}.duration_count + excluded.duration_count,
  duration_sum_ms = ${table}.duration_sum_ms + excluded.duration_sum_ms,
  duration_min_ms = LEAST(${table}.duration_min_ms, excluded.duration_min_ms),
  duration_max_ms = GREATEST(${table}.duration_max_ms, excluded.duration_max_ms),
  duration_hist = CASE WHEN ${k}::text IS NULL THEN ${table}.duration_hist
    ELSE ${table}.duration_hist || jsonb_build_object(${k}::text, coalesce((${table}.duration_hist ->> ${k}::text)::bigint, 0) + 1) END`;

/**
 * AnalyticsStore on PostgreSQL or PGlite (the same SQL on both).
 *
 * `apply` is one statement of data-modifying CTEs: the event id goes into
 * analytics_processed_events `ON CONFLICT DO NOTHING`, and the aggregate rows are
 * upserted only from what that insert returned. A redelivered event (even one
 * racing its first delivery: the second insert waits for the first to commit)
 * changes nothing. Queries read the hourly rows of the window, never events.
 */
export class SqlAnalyticsStore implements AnalyticsStore {
  private readonly inFlight = new InFlight(() => new AnalyticsError('STORE_CLOSED', 'the analytics store is closed'));

  constructor(readonly dataSource: DataSource) {}

  apply(eventId: string, delta: AggregateDelta): Promise<{ applied: boolean }> {
    if (delta.kind === 'review-opened' || delta.kind === 'review-decided') return this.track(() => applyReviewEvent(this.dataSource, eventId, delta));
    return this.track(async () => {
      const duration = delta.durationMs;
      const k = duration === undefined ? null : String(bucketOf(duration));
      const hist = k === null ? '{}' : JSON.stringify({ [k]: 1 });
      const rows: { applied: number }[] =
        delta.kind === 'step'
          ? await this.dataSource.query(
              `WITH fresh AS (
                 INSERT INTO analytics_processed_events (event_id) VALUES ($1) ON CONFLICT DO NOTHING RETURNING 1
               ), step AS (
                 INSERT INTO analytics_step_hourly AS t (namespace, workflow, step_id, bucket, ${STEP_COLUMN[delta.counter]}, duration_count, duration_sum_ms,
                                                        duration_min_ms, duration_max_ms, duration_hist, last_failed_at)
                 SELECT $14, $2, $3, $4::timestamptz, 1, $5, $6, $7, $7, $8::jsonb, $9::timestamptz FROM fresh
                 ON CONFLICT (namespace, workflow, step_id, bucket) DO UPDATE SET
                   ${STEP_COLUMN[delta.counter]} = t.${STEP_COLUMN[delta.counter]} + 1,
                   ${durationMerge('t', '$10')},
                   last_failed_at = GREATEST(t.last_failed_at, excluded.last_failed_at)
                 RETURNING 1
               ), error AS (
                 INSERT INTO analytics_step_errors AS e (namespace, workflow, step_id, bucket, code, failures, retries)
                 SELECT $14, $2, $3, $4::timestamptz, $11, $12, $13 FROM fresh WHERE $11::text IS NOT NULL
                 ON CONFLICT (namespace, workflow, step_id, bucket, code) DO UPDATE SET
                   failures = e.failures + excluded.failures, retries = e.retries + excluded.retries
                 RETURNING 1
               )
               SELECT (SELECT count(*) FROM fresh)::int AS applied`,
              [
                eventId,
                delta.workflow,
                delta.stepId,
                iso(delta.bucket),
                duration === undefined ? 0 : 1,
                duration ?? 0,
                duration ?? null,
                hist,
                delta.failedAt === undefined ? null : iso(delta.failedAt),
                k,
                delta.error?.code ?? null,
                delta.error?.final === true ? 1 : 0,
                delta.error !== undefined && !delta.error.final ? 1 : 0,
                delta.namespace,
              ],
            )
          : await this.dataSource.query(
              `WITH fresh AS (
                 INSERT INTO analytics_processed_events (event_id) VALUES ($1) ON CONFLICT DO NOTHING RETURNING 1
               ), run AS (
                 INSERT INTO analytics_run_hourly AS t (namespace, workflow, bucket, ${RUN_COLUMN[delta.counter]}, duration_count, duration_sum_ms,
                                                       duration_min_ms, duration_max_ms, duration_hist)
                 SELECT $9, $2, $3::timestamptz, 1, $4, $5, $6, $6, $7::jsonb FROM fresh
                 ON CONFLICT (namespace, workflow, bucket) DO UPDATE SET
                   ${RUN_COLUMN[delta.counter]} = t.${RUN_COLUMN[delta.counter]} + 1,
                   ${durationMerge('t', '$8')}
                 RETURNING 1
               )
               SELECT (SELECT count(*) FROM fresh)::int AS applied`,
              [eventId, delta.workflow, iso(delta.bucket), duration === undefined ? 0 : 1, duration ?? 0, duration ?? null, hist, k, delta.namespace],
            );
      return { applied: (rows[0]?.applied ?? 0) > 0 };
    });
  }

  stepTotals(window: InsightWindow): Promise<StepTotalsRow[]> {
    return this.track(async () => {
      const { where, params } = windowFilter(window);
      const rows: StepTotalsSql[] = await this.dataSource.query(
        `WITH rows AS (SELECT * FROM analytics_step_hourly WHERE ${where}),
         totals AS (
           SELECT workflow, step_id, sum(completed)::float8 AS completed, sum(failed)::float8 AS failed, sum(retried)::float8 AS retried,
                  sum(skipped)::float8 AS skipped, sum(canceled)::float8 AS canceled, sum(timed_out)::float8 AS timed_out,
                  sum(duration_count)::float8 AS duration_count, sum(duration_sum_ms)::float8 AS duration_sum_ms,
                  min(duration_min_ms) AS duration_min_ms, max(duration_max_ms) AS duration_max_ms, max(last_failed_at) AS last_failed_at
           FROM rows GROUP BY workflow, step_id),
         sketch AS (
           SELECT workflow, step_id, jsonb_object_agg(k, n) AS hist FROM (
             SELECT workflow, step_id, h.key AS k, sum(h.value::bigint)::float8 AS n FROM rows, jsonb_each_text(rows.duration_hist) AS h
             GROUP BY workflow, step_id, h.key) AS buckets
           GROUP BY workflow, step_id)
         SELECT totals.*, coalesce(sketch.hist, '{}'::jsonb) AS hist FROM totals LEFT JOIN sketch USING (workflow, step_id)
         ORDER BY workflow, step_id`,
        params,
      );
      return rows.map((row) => ({
        workflow: row.workflow,
        stepId: row.step_id,
        completed: row.completed,
        failed: row.failed,
        retried: row.retried,
        skipped: row.skipped,
        canceled: row.canceled,
        timedOut: row.timed_out,
        durationCount: row.duration_count,
        durationSumMs: row.duration_sum_ms,
        durationMinMs: row.duration_min_ms,
        durationMaxMs: row.duration_max_ms,
        histogram: row.hist,
        lastFailedAt: row.last_failed_at === null ? null : millis(row.last_failed_at),
      }));
    });
  }

  errorCodes(window: InsightWindow): Promise<ErrorCodeRow[]> {
    return this.track(async () => {
      const { where, params } = windowFilter(window);
      const rows: { workflow: string; step_id: string; code: string; failures: number; retries: number }[] = await this.dataSource.query(
        `SELECT workflow, step_id, code, sum(failures)::float8 AS failures, sum(retries)::float8 AS retries
         FROM analytics_step_errors WHERE ${where} GROUP BY workflow, step_id, code ORDER BY workflow, step_id, code`,
        params,
      );
      return rows.map((row) => ({ workflow: row.workflow, stepId: row.step_id, code: row.code, failures: row.failures, retries: row.retries }));
    });
  }

  runBuckets(window: InsightWindow): Promise<RunBucketRow[]> {
    return this.track(async () => {
      const { where, params } = windowFilter(window);
      const rows: (RunSums & { bucket: Date | string })[] = await this.dataSource.query(
        `SELECT bucket, ${RUN_SUMS} FROM analytics_run_hourly WHERE ${where} GROUP BY bucket ORDER BY bucket`,
        params,
      );
      return rows.map((row) => ({ bucket: millis(row.bucket), ...runSums(row) }));
    });
  }

  runTotals(window: InsightWindow): Promise<RunTotalsRow> {
    return this.track(async () => {
      const { where, params } = windowFilter(window);
      const rows: (RunSums & { duration_min_ms: number | null; duration_max_ms: number | null; hist: DurationHistogram | null })[] = await this.dataSource.query(
        `WITH rows AS (SELECT * FROM analytics_run_hourly WHERE ${where})
         SELECT ${RUN_SUMS}, min(duration_min_ms) AS duration_min_ms, max(duration_max_ms) AS duration_max_ms,
                (SELECT jsonb_object_agg(k, n) FROM (
                   SELECT h.key AS k, sum(h.value::bigint)::float8 AS n FROM rows, jsonb_each_text(rows.duration_hist) AS h GROUP BY h.key) AS buckets) AS hist
         FROM rows`,
        params,
      );
      const row = rows[0];
      if (!row) throw new Error('aggregate query returned no row');
      return { ...runSums(row), durationMinMs: row.duration_min_ms, durationMaxMs: row.duration_max_ms, histogram: row.hist ?? {} };
    });
  }

  reviewTotals(window: InsightWindow): Promise<ReviewTotalsRow[]> {
    return this.track(() => reviewTotals(this.dataSource, window));
  }

  /** One small batch per table (see pruneBatch in @weft/db). */
  pruneBatch(processedBefore: number, bucketsBefore: number | undefined, batchSize: number): Promise<{ processed: number; buckets: number; more: boolean }> {
    return this.track(async () => {
      const deleted = (table: string, column: string, before: number): Promise<number> => pruneBatch(this.dataSource, { table, column, before, batch: batchSize });
      const processed = await deleted('analytics_processed_events', 'processed_at', processedBefore);
      let more = processed === batchSize;
      let buckets = 0;
      if (bucketsBefore !== undefined) {
        // Only whole hours: a bucket is deleted once all of it is older than the cutoff.
        const before = hourOf(bucketsBefore);
        for (const [table, column] of [
          ['analytics_step_hourly', 'bucket'],
          ['analytics_step_errors', 'bucket'],
          ['analytics_run_hourly', 'bucket'],
          ['analytics_review_decisions', 'decided_at'],
          ['analytics_review_openings', 'opened_at'],
        ] as const) {
          const n = await deleted(table, column, before);
          buckets += n;
          more ||= n === batchSize;
        }
      }
      return { processed, buckets, more };
    });
  }

  now(): Promise<number> {
    return this.track(() => databaseNow(this.dataSource));
  }

  close(): Promise<void> {
    return this.inFlight.close();
  }

  private track<T>(work: () => Promise<T>): Promise<T> {
    return this.inFlight.track(work);
  }
}

export type OpenAnalyticsStoreOptions = OpenMigratedOptions;

/**
 * Opens the data source, applies the analytics migrations (or, with `migrate: false`,
 * fails when any is pending) and builds the store. Close the store, then destroy the data source.
 */
export async function openAnalyticsStore(
  config: DatabaseConfig,
  options: OpenAnalyticsStoreOptions = {},
): Promise<{ store: SqlAnalyticsStore; dataSource: DataSource; applied: string[] }> {
  const { dataSource, applied } = await openMigrated(
    config,
    { migrations: ANALYTICS_MIGRATIONS, migrationsTableName: ANALYTICS_MIGRATIONS_TABLE },
    'the analytics schema',
    options,
  );
  return { store: new SqlAnalyticsStore(dataSource), dataSource, applied };
}

const RUN_SUMS = `sum(started)::float8 AS started, sum(restarted)::float8 AS restarted, sum(completed)::float8 AS completed,
  sum(partially_completed)::float8 AS partially_completed, sum(failed)::float8 AS failed, sum(canceled)::float8 AS canceled,
  sum(duration_count)::float8 AS duration_count, sum(duration_sum_ms)::float8 AS duration_sum_ms`;

interface RunSums {
  started: number | null;
  restarted: number | null;
  completed: number | null;
  partially_completed: number | null;
  failed: number | null;
  canceled: number | null;
  duration_count: number | null;
  duration_sum_ms: number | null;
}

/** Sums over no rows are NULL in SQL; zero here. */
const runSums = (row: RunSums): Omit<RunBucketRow, 'bucket'> => ({
  started: row.started ?? 0,
  restarted: row.restarted ?? 0,
  completed: row.completed ?? 0,
  partiallyCompleted: row.partially_completed ?? 0,
  failed: row.failed ?? 0,
  canceled: row.canceled ?? 0,
  durationCount: row.duration_count ?? 0,
  durationSumMs: row.duration_sum_ms ?? 0,
});

interface StepTotalsSql {
  workflow: string;
  step_id: string;
  completed: number;
  failed: number;
  retried: number;
  skipped: number;
  canceled: number;
  timed_out: number;
  duration_count: number;
  duration_sum_ms: number;
  duration_min_ms: number | null;
  duration_max_ms: number | null;
  last_failed_at: Date | string | null;
  hist: DurationHistogram;
}

/** Hours overlapping [since, until): from the hour holding `since`. */
function windowFilter(window: InsightWindow): { where: string; params: unknown[] } {
  const params: unknown[] = [iso(hourOf(window.since)), iso(window.until)];
  let where = 'bucket >= $1::timestamptz AND bucket < $2::timestamptz';
  if (window.namespace !== undefined) where += ` AND namespace = $${params.push(window.namespace)}`;
  if (window.workflow !== undefined) where += ` AND workflow = $${params.push(window.workflow)}`;
  return { where, params };
}

const iso = (ms: number): string => new Date(ms).toISOString();
const millis = (value: Date | string): number => (value instanceof Date ? value.getTime() : new Date(value).getTime());
