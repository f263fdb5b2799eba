import type { DataSource } from 'typeorm';
import type { AggregateDelta, InsightWindow } from '../domain/analytics.types';
import { hourOf } from '../domain/event-delta.util';
import type { ReviewTotalsRow } from '../ports/analytics-store.port';

type ReviewDelta = Extract<AggregateDelta, { kind: 'review-opened' | 'review-decided' }>;

/**
 * A review's opening or decision, once per event id (the processed-events insert gates it, as for
 * the counters). The first opening of a review wins; a decision is kept once. A decision that
 * arrives before its opening is timed once the opening arrives (the time is read at query time).
 */
export async function applyReviewEvent(db: DataSource, eventId: string, delta: ReviewDelta): Promise<{ applied: boolean }> {
  const rows: { applied: number }[] =
    delta.kind === 'review-opened'
      ? await db.query(
          `WITH fresh AS (INSERT INTO analytics_processed_events (event_id) VALUES ($1) ON CONFLICT DO NOTHING RETURNING 1),
           opened AS (
             INSERT INTO analytics_review_openings (namespace, review_id, opened_at) SELECT $2, $3, $4::timestamptz FROM fresh
             ON CONFLICT (namespace, review_id) DO UPDATE SET opened_at = LEAST(analytics_review_openings.opened_at, excluded.opened_at)
             RETURNING 1)
           SELECT (SELECT count(*) FROM fresh)::int AS applied`,
          [eventId, delta.namespace, delta.reviewId, iso(delta.at)],
        )
      : await db.query(
          `WITH fresh AS (INSERT INTO analytics_processed_events (event_id) VALUES ($1) ON CONFLICT DO NOTHING RETURNING 1),
           decided AS (
             INSERT INTO analytics_review_decisions (namespace, review_id, workflow, step_id, decision, decided_at)
             SELECT $2, $3, $4, $5, $6, $7::timestamptz FROM fresh ON CONFLICT (namespace, review_id) DO NOTHING
             RETURNING 1)
           SELECT (SELECT count(*) FROM fresh)::int AS applied`,
          [eventId, delta.namespace, delta.reviewId, delta.workflow, delta.stepId, delta.decision, iso(delta.at)],
        );
  return { applied: (rows[0]?.applied ?? 0) > 0 };
}

/** Per reviewed step: decisions in the window, rejections, and exact percentiles of the time to decision. */
export async function reviewTotals(db: DataSource, window: InsightWindow): Promise<ReviewTotalsRow[]> {
  const params: unknown[] = [iso(hourOf(window.since)), iso(window.until)];
  let where = 'd.decided_at >= $1::timestamptz AND d.decided_at < $2::timestamptz';
  if (window.namespace !== undefined) where += ` AND d.namespace = $${params.push(window.namespace)}`;
  if (window.workflow !== undefined) where += ` AND d.workflow = $${params.push(window.workflow)}`;
  const rows: { workflow: string; step_id: string; decided: number; rejected: number; timed: number; sum_ms: number | null; p50: number | null; p95: number | null }[] = await db.query(
    `SELECT d.workflow, d.step_id, count(*)::float8 AS decided, (count(*) FILTER (WHERE d.decision = 'reject'))::float8 AS rejected,
            count(w.ms)::float8 AS timed, sum(w.ms)::float8 AS sum_ms,
            (percentile_disc(0.5) WITHIN GROUP (ORDER BY w.ms))::float8 AS p50, (percentile_disc(0.95) WITHIN GROUP (ORDER BY w.ms))::float8 AS p95
     FROM analytics_review_decisions d
     LEFT JOIN analytics_review_openings o ON o.namespace = d.namespace AND o.review_id = d.review_id
     CROSS JOIN LATERAL (SELECT GREATEST(0, extract(epoch FROM (d.decided_at - o.opened_at)) * 1000)::float8 AS ms) w
     WHERE ${where}
     GROUP BY d.workflow, d.step_id ORDER BY d.workflow, d.step_id`,
    params,
  );
  return rows.map((r) => ({ workflow: r.workflow, stepId: r.step_id, decided: r.decided, rejected: r.rejected, timed: r.timed, sumMs: r.sum_ms ?? 0, p50Ms: r.p50, p95Ms: r.p95 }));
}

const iso = (ms: number): string => new Date(ms).toISOString();
