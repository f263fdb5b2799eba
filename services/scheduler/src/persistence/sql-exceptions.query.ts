import type { Actor } from '@weft/contracts';
import { withTransaction } from '@weft/db';
import type { DataSource } from 'typeorm';
import type { ExceptionItem, ExceptionKind, ExceptionQuery, Page } from '../ports/wait-store.port';
import { iso, millis } from './run-state.mapper';
import type { Sql } from './run-sql.util';
import { page } from './wait-rows.util';

/** The id of a queue's `blocked` item: `queue:<name>`. */
export const QUEUE_ITEM_PREFIX = 'queue:';
/** The id of a quarantined outbox row's `dead-letter` item: `outbox:<row id>`. */
export const OUTBOX_ITEM_PREFIX = 'outbox:';

// The queue a step (or a forEach item `id[i]`) of a run was planned on.
const STEP_QUEUE = `CROSS JOIN LATERAL (
  SELECT coalesce(p->>'queue', 'default') AS queue FROM jsonb_array_elements(u.plan) p
  WHERE p->>'id' = regexp_replace(s.step_id, '\\[[0-9]+\\]$', '') LIMIT 1) q`;

/**
 * Queued steps of the namespace on queues no live worker serves, one row per queue (its oldest
 * step names the run): `$1` the namespace, `live` the parameter of the served queues.
 */
function queueItems(live: string, workflow: string | undefined): string {
  const order = 'ORDER BY coalesce(s.queued_at, u.updated_at), u.id, s.step_id';
  return `SELECT 'blocked' AS kind, '${QUEUE_ITEM_PREFIX}' || b.queue AS id, b.workflow, b.run_id, b.step_id,
            'queue ' || b.queue || ': ' || b.steps || ' dispatched step(s) of ' || b.runs || ' run(s), and no live worker serves it' AS summary, b.at
     FROM (
       SELECT q.queue, count(*) AS steps, count(DISTINCT u.id) AS runs, min(coalesce(s.queued_at, u.updated_at)) AS at,
              (array_agg(u.workflow ${order}))[1] AS workflow, (array_agg(u.id ${order}))[1] AS run_id, (array_agg(s.step_id ${order}))[1] AS step_id
       FROM step_runs s JOIN runs u ON u.id = s.run_id ${STEP_QUEUE}
       WHERE u.namespace = $1 AND u.status IN ('running', 'waiting') AND s.status = 'queued' AND NOT (q.queue = ANY(${live}::text[]))
         ${workflow === undefined ? '' : `AND u.workflow = ${workflow}`}
       GROUP BY q.queue
     ) b`;
}

/**
 * The exception queue on PostgreSQL or PGlite (SqlWaitStore.listExceptions): open reviews, failed
 * runs, stuck runs (stuckAfterMs), queues with dispatched work and no live worker (liveQueues)
 * and quarantined outbox rows (`dead-letter`), oldest first, with their resolutions.
 */
export async function listExceptionRows(db: Sql, namespace: string, query: ExceptionQuery): Promise<Page<ExceptionItem>> {
  const params: unknown[] = [namespace];
  const param = (value: unknown): string => `$${params.push(value)}`;
  const where: string[] = [];
  if (query.resolved !== true) where.push('res.target_id IS NULL');
  if (query.kind !== undefined) where.push(`x.kind = ${param(query.kind)}`);
  if (query.workflow !== undefined) where.push(`x.workflow = ${param(query.workflow)}`);
  if (query.since !== undefined) where.push(`x.at >= ${param(iso(query.since))}::timestamptz`);
  if (query.after !== undefined) where.push(`(x.at, x.id) > (${param(iso(query.after.at))}::timestamptz, ${param(query.after.id)})`);
  // Stuck runs (WEFT_STUCK_AFTER): running, steps dispatched, the run row unchanged that long (database time).
  const stuck =
    query.stuckAfterMs === undefined
      ? ''
      : `UNION ALL
         SELECT 'blocked', u.id, u.workflow, u.id, min(s.step_id),
                'no progress since ' || to_char(u.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || ': ' || string_agg(s.step_id || ' ' || s.status, ', ' ORDER BY s.step_id),
                u.updated_at
         FROM runs u JOIN step_runs s ON s.run_id = u.id AND s.status IN ('queued', 'running')
         WHERE u.namespace = $1 AND u.status = 'running' AND u.updated_at < clock_timestamp() - make_interval(secs => ${param(query.stuckAfterMs / 1000)}::double precision)
         GROUP BY u.id, u.workflow, u.updated_at`;
  // 'all': some worker serves every queue (`*`), so no queue is without one.
  const queues =
    query.liveQueues === undefined || query.liveQueues === 'all'
      ? ''
      : `UNION ALL ${queueItems(param([...query.liveQueues]), query.workflow === undefined ? undefined : param(query.workflow))}`;
  const rows: { kind: ExceptionKind; id: string; workflow: string; run_id: string; step_id: string | null; summary: string; at: Date; note: string | null; actor: Actor | null; resolved_at: Date | null }[] =
    await db.query(
      `SELECT x.*, res.note, res.actor, res.resolved_at FROM (
         SELECT CASE WHEN r.overdue THEN 'blocked' WHEN r.by_rule THEN 'low-confidence' ELSE 'review' END AS kind,
                r.id, r.workflow, r.run_id, r.step_id, r.title AS summary, r.opened_at AS at
         FROM reviews r WHERE r.namespace = $1 AND r.status = 'open'
         UNION ALL
         SELECT 'failed', u.id, u.workflow, u.id, NULL, coalesce(u.error->>'code', 'FAILED') || ': ' || coalesce(u.error->>'message', ''), coalesce(u.finished_at, u.created_at)
         FROM runs u WHERE u.namespace = $1 AND u.status = 'failed'
         UNION ALL
         SELECT 'dead-letter', '${OUTBOX_ITEM_PREFIX}' || o.id::text, u.workflow, u.id, NULL,
                o.subject || ': ' || coalesce(o.quarantine_reason, 'quarantined'), o.quarantined_at
         FROM outbox o JOIN runs u ON u.id = o.run_id WHERE u.namespace = $1 AND o.quarantined_at IS NOT NULL
         ${stuck}
         ${queues}
       ) x
       -- A queue's resolution covers the blocked spell it was made in: work queued after it opens a new one.
       LEFT JOIN exception_resolutions res ON res.namespace = $1 AND res.kind = x.kind AND res.target_id = x.id
         AND (x.id NOT LIKE '${QUEUE_ITEM_PREFIX}%' OR res.resolved_at >= x.at)
       ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY x.at, x.id LIMIT ${param(query.limit + 1)}`,
      params,
    );
  const items = rows.map((r): ExceptionItem => {
    const item: ExceptionItem = { kind: r.kind, id: r.id, workflow: r.workflow, runId: r.run_id, summary: r.summary, at: millis(r.at) };
    if (r.step_id !== null) item.stepId = r.step_id;
    if (r.note !== null && r.actor !== null && r.resolved_at !== null) item.resolved = { note: r.note, actor: r.actor, at: millis(r.resolved_at) };
    return item;
  });
  return page(items, query.limit, (i) => ({ at: i.at, id: i.id }));
}

/** SqlWaitStore.resolveException: the item must be in the queue now; its resolution and audit record in one transaction. */
export function resolveExceptionRow(
  dataSource: DataSource,
  namespace: string,
  kind: ExceptionKind,
  id: string,
  note: string,
  actor: Actor,
  listedElsewhere = false,
): Promise<'resolved' | 'already' | 'unknown'> {
  return withTransaction(dataSource, async (tx) => {
    const found: { at: Date | null }[] = listedElsewhere ? [{ at: null }] : await tx.query(existsQuery(kind, id), [namespace, id, kind]);
    const item = found[0];
    if (item === undefined) return 'unknown';
    // A queue may be resolved again once a new blocked spell began after the last resolution.
    const inserted: { at: Date }[] = await tx.query(
      `INSERT INTO exception_resolutions (namespace, kind, target_id, note, actor, resolved_at)
       VALUES ($1, $2, $3, $4, $5::jsonb, date_trunc('milliseconds', clock_timestamp()))
       ON CONFLICT (namespace, kind, target_id) DO UPDATE SET note = excluded.note, actor = excluded.actor, resolved_at = excluded.resolved_at
         WHERE $6::timestamptz IS NOT NULL AND exception_resolutions.resolved_at < $6::timestamptz
       RETURNING resolved_at AS at`,
      [namespace, kind, id, note, JSON.stringify(actor), item.at === null ? null : iso(millis(item.at))],
    );
    const row = inserted[0];
    if (row === undefined) return 'already';
    await tx.query(
      `INSERT INTO audit (at, namespace, actor, action, target_kind, target_id, details) VALUES ($1::timestamptz, $2, $3::jsonb, 'exception.resolved', $4, $5, $6::jsonb)`,
      [iso(millis(row.at)), namespace, JSON.stringify(actor), kind, id, JSON.stringify({ note })],
    );
    return 'resolved';
  });
}

/** One row (with the start of a queue's blocked spell in `at`) when the item is in the namespace's queue; $1 namespace, $2 id, $3 kind. */
function existsQuery(kind: ExceptionKind, id: string): string {
  if (kind === 'failed') return `SELECT NULL::timestamptz AS at FROM runs WHERE namespace = $1 AND id = $2 AND status = 'failed' AND $3 = 'failed'`;
  if (kind === 'dead-letter') {
    return `SELECT NULL::timestamptz AS at FROM outbox o JOIN runs u ON u.id = o.run_id
            WHERE u.namespace = $1 AND '${OUTBOX_ITEM_PREFIX}' || o.id::text = $2 AND o.quarantined_at IS NOT NULL AND $3 = 'dead-letter'`;
  }
  if (kind === 'blocked' && id.startsWith(QUEUE_ITEM_PREFIX)) {
    return `SELECT min(coalesce(s.queued_at, u.updated_at)) AS at FROM step_runs s JOIN runs u ON u.id = s.run_id ${STEP_QUEUE}
            WHERE u.namespace = $1 AND u.status IN ('running', 'waiting') AND s.status = 'queued' AND '${QUEUE_ITEM_PREFIX}' || q.queue = $2 AND $3 = 'blocked'
            HAVING count(*) > 0`;
  }
  return `SELECT NULL::timestamptz AS at FROM reviews WHERE namespace = $1 AND id = $2 AND status = 'open' AND (CASE WHEN overdue THEN 'blocked' WHEN by_rule THEN 'low-confidence' ELSE 'review' END) = $3
          UNION ALL
          SELECT NULL::timestamptz FROM runs u WHERE $3 = 'blocked' AND u.namespace = $1 AND u.id = $2 AND u.status = 'running'
            AND EXISTS (SELECT 1 FROM step_runs s WHERE s.run_id = u.id AND s.status IN ('queued', 'running'))`;
}

/** Resolutions of items the caller lists itself (bus dead letters). */
export async function listResolutionRows(db: Sql, namespace: string, kind: ExceptionKind, ids: readonly string[]): Promise<Map<string, NonNullable<ExceptionItem['resolved']>>> {
  if (ids.length === 0) return new Map();
  const rows: { target_id: string; note: string; actor: Actor; resolved_at: Date }[] = await db.query(
    'SELECT target_id, note, actor, resolved_at FROM exception_resolutions WHERE namespace = $1 AND kind = $2 AND target_id = ANY($3::text[])',
    [namespace, kind, [...ids]],
  );
  return new Map(rows.map((r) => [r.target_id, { note: r.note, actor: r.actor, at: millis(r.resolved_at) }]));
}

/** The namespace and workflow of each of these runs (bus dead letters name runs, not namespaces). */
export async function runOwners(db: Sql, runIds: readonly string[]): Promise<Map<string, { namespace: string; workflow: string }>> {
  if (runIds.length === 0) return new Map();
  const rows: { id: string; namespace: string; workflow: string }[] = await db.query('SELECT id, namespace, workflow FROM runs WHERE id = ANY($1::text[])', [[...runIds]]);
  return new Map(rows.map((r) => [r.id, { namespace: r.namespace, workflow: r.workflow }]));
}
