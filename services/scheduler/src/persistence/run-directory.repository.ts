import type { RunStatus, StepError } from '@weft/core';
import type { DataSource } from 'typeorm';
import { namespaceFilter } from './run-sql.util';

/** A run as listings show it: the run row without steps, spec or plan. Times are epoch ms. */
export interface RunListing {
  runId: string;
  namespace: string;
  workflow: string;
  version: string;
  status: RunStatus;
  error: StepError | null;
  correlationId: string | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

export interface RunListFilter {
  workflow?: string;
  status?: RunStatus[];
  /** Created at or after (epoch ms). */
  since?: number;
  /** Created before (epoch ms). */
  until?: number;
  /** Exactly this correlation id. */
  correlationId?: string;
  /** The run id or the correlation id starts with this (the `(namespace, id|correlation_id text_pattern_ops)` indexes). */
  prefix?: string;
}

/** Position after the last run of a page (newest first). */
export interface RunCursor {
  createdAt: number;
  runId: string;
}

export interface RunLink {
  runId: string;
  kind: 'rerun';
  sourceRunId: string;
  fromStep: string | null;
}

/** Re-runs of one run a run view lists at most (newest first). */
export const MAX_RERUNS_LISTED = 50;

/** Both directions: the run this one re-ran, and the runs that re-ran this one (oldest first). */
export interface RunLinks {
  rerunOf: RunLink | undefined;
  reruns: { runId: string; fromStep: string | null; createdAt: number }[];
}

interface ListingRow {
  id: string;
  namespace: string;
  workflow: string;
  version: string;
  status: RunStatus;
  error: StepError | null;
  correlation_id: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

/**
 * What the API asks about runs beyond the RunStore: which namespace a run is in,
 * listings per namespace (keyset pages on the `(namespace, created_at, id)` indexes)
 * and the links between a rerun and its source.
 */
export class SqlRunDirectory {
  constructor(private readonly dataSource: DataSource) {}

  async namespaceOf(runId: string): Promise<string | undefined> {
    const rows: { namespace: string }[] = await this.dataSource.query('SELECT namespace FROM runs WHERE id = $1', [runId]);
    return rows[0]?.namespace;
  }

  /** Newest first; `limit` rows after `cursor`. */
  async list(namespace: string, filter: RunListFilter, page: { cursor?: RunCursor; limit: number }): Promise<RunListing[]> {
    const { where, params, param } = namespaceFilter(namespace);
    if (filter.workflow !== undefined) where.push(`workflow = ${param(filter.workflow)}`);
    if (filter.status !== undefined) where.push(`status IN (SELECT jsonb_array_elements_text(${param(JSON.stringify(filter.status))}::jsonb))`);
    if (filter.since !== undefined) where.push(`created_at >= ${param(iso(filter.since))}::timestamptz`);
    if (filter.until !== undefined) where.push(`created_at < ${param(iso(filter.until))}::timestamptz`);
    if (filter.correlationId !== undefined) where.push(`correlation_id = ${param(filter.correlationId)}`);
    if (filter.prefix !== undefined) {
      const pattern = param(`${likeEscaped(filter.prefix)}%`);
      where.push(`(id LIKE ${pattern} OR correlation_id LIKE ${pattern})`);
    }
    if (page.cursor) where.push(`(created_at, id) < (${param(iso(page.cursor.createdAt))}::timestamptz, ${param(page.cursor.runId)})`);
    const rows: ListingRow[] = await this.dataSource.query(
      `SELECT id, namespace, workflow, version, status, error, correlation_id, created_at, started_at, finished_at
       FROM runs WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT ${param(page.limit)}`,
      params,
    );
    return rows.map(toListing);
  }

  /** Where a run came from, and the re-runs of it (the newest MAX_RERUNS_LISTED, on ix_run_links_source_run_id), in one round trip. */
  async links(runId: string): Promise<RunLinks> {
    const rows: { dir: 'of' | 'by'; run_id: string; kind: 'rerun'; source_run_id: string; from_step: string | null; created_at: Date }[] = await this.dataSource.query(
      `(SELECT 'of' AS dir, run_id, kind, source_run_id, from_step, created_at FROM run_links WHERE run_id = $1)
       UNION ALL
       (SELECT 'by' AS dir, run_id, kind, source_run_id, from_step, created_at FROM run_links WHERE source_run_id = $1 ORDER BY created_at DESC, run_id DESC LIMIT ${MAX_RERUNS_LISTED})`,
      [runId],
    );
    const of = rows.find((r) => r.dir === 'of');
    const reruns = rows
      .filter((r) => r.dir === 'by')
      .map((r) => ({ runId: r.run_id, fromStep: r.from_step, createdAt: new Date(r.created_at).getTime() }))
      .sort((a, b) => a.createdAt - b.createdAt || (a.runId < b.runId ? -1 : 1));
    return { rerunOf: of ? { runId: of.run_id, kind: of.kind, sourceRunId: of.source_run_id, fromStep: of.from_step } : undefined, reruns };
  }

  /** Records where a run came from; a second call for the run (an idempotent replay) keeps the first. */
  async addLink(namespace: string, link: RunLink): Promise<void> {
    await this.dataSource.query(
      'INSERT INTO run_links (run_id, namespace, kind, source_run_id, from_step) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (run_id) DO NOTHING',
      [link.runId, namespace, link.kind, link.sourceRunId, link.fromStep],
    );
  }
}

/** `text` with LIKE's wildcards and escape character taken literally (backslash is LIKE's default escape). */
const likeEscaped = (text: string): string => text.replace(/[\\%_]/g, (c) => `\\${c}`);
const iso = (ms: number): string => new Date(ms).toISOString();
const millis = (value: Date | null): number | null => (value === null ? null : new Date(value).getTime());

function toListing(row: ListingRow): RunListing {
  return {
    runId: row.id,
    namespace: row.namespace,
    workflow: row.workflow,
    version: row.version,
    status: row.status,
    error: row.error,
    correlationId: row.correlation_id,
    createdAt: new Date(row.created_at).getTime(),
    startedAt: millis(row.started_at),
    finishedAt: millis(row.finished_at),
  };
}
