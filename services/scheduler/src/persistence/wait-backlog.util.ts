import { iso, millis } from './run-state.mapper';
import type { Sql } from './run-sql.util';

/** Stored signals of a wait's lookback handed to the core at a time (earliest first). */
export const LOOKBACK_PAGE = 100;

/** The signal wait whose lookback (stored signals in [since, until)) is handed over. */
export interface BacklogWait {
  runId: string;
  stepId: string;
  token: string;
  namespace: string;
  name: string;
  key: string | null;
  since: number;
  until: number;
}

/**
 * Records deliveries for the next page of stored signals a wait meets (after `after`, earliest
 * first) and keeps on the wait where the page ended: the last signal when the page was full
 * (more may follow), NULL when the backlog is done. Deliveries are applied earliest first and
 * the core checks `match`; when a page is used up and the wait still waits, dropDelivery asks
 * for the next one (SqlWaitStore), so a match beyond any number of stored signals is found.
 */
export async function deliverBacklogPage(tx: Sql, wait: BacklogWait, after?: { at: number; id: string }): Promise<void> {
  const params: unknown[] = [wait.namespace, wait.name, wait.key, iso(wait.since), iso(wait.until)];
  const cursor = after === undefined ? '' : `AND (s.received_at, s.id) > ($6::timestamptz, $7::text)`;
  if (after !== undefined) params.push(iso(after.at), after.id);
  const page: { id: string; received_at: Date }[] = await tx.query(
    `SELECT s.id, s.received_at FROM signals s
     WHERE s.namespace = $1 AND s.name = $2 AND ($3::text IS NULL OR s.key = $3::text)
       AND s.received_at >= $4::timestamptz AND s.received_at < $5::timestamptz ${cursor}
     ORDER BY s.received_at, s.id LIMIT ${LOOKBACK_PAGE}`,
    params,
  );
  if (page.length > 0) {
    await tx.query(
      `INSERT INTO signal_deliveries (run_id, step_id, namespace, signal_id, token, received_at)
       SELECT $1, $2, $3, s.id, $4, s.received_at FROM unnest($5::text[], $6::timestamptz[]) AS s(id, received_at)
       ON CONFLICT DO NOTHING`,
      [wait.runId, wait.stepId, wait.namespace, wait.token, page.map((p) => p.id), page.map((p) => iso(millis(p.received_at)))],
    );
  }
  const last = page.length === LOOKBACK_PAGE ? page[page.length - 1] : undefined;
  await tx.query(`UPDATE signal_waits SET backlog_at = $4::timestamptz, backlog_id = $5, backlog_until = $6::timestamptz WHERE run_id = $1 AND step_id = $2 AND token = $3`, [
    wait.runId,
    wait.stepId,
    wait.token,
    last === undefined ? null : iso(millis(last.received_at)),
    last?.id ?? null,
    iso(wait.until),
  ]);
}

/**
 * After a delivery was dropped: the next backlog page of the run step's wait, when its current
 * page is used up (no delivery left at or before the page's end) and it still waits. A wait
 * another transaction is paging is skipped (it hands the page over).
 */
export async function nextBacklogPage(tx: Sql, runId: string, stepId: string): Promise<boolean> {
  const rows: { token: string; namespace: string; name: string; key: string | null; since: Date; backlog_at: Date; backlog_id: string; backlog_until: Date }[] = await tx.query(
    `SELECT w.token, w.namespace, w.name, w.key, w.since, w.backlog_at, w.backlog_id, w.backlog_until FROM signal_waits w
     WHERE w.run_id = $1 AND w.step_id = $2 AND w.backlog_at IS NOT NULL AND w.backlog_until IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM signal_deliveries d WHERE d.run_id = w.run_id AND d.step_id = w.step_id AND d.token = w.token
                         AND (d.received_at, d.signal_id) <= (w.backlog_at, w.backlog_id))
     FOR UPDATE SKIP LOCKED`,
    [runId, stepId],
  );
  const wait = rows[0];
  if (wait === undefined) return false;
  await deliverBacklogPage(
    tx,
    { runId, stepId, token: wait.token, namespace: wait.namespace, name: wait.name, key: wait.key, since: millis(wait.since), until: millis(wait.backlog_until) },
    { at: millis(wait.backlog_at), id: wait.backlog_id },
  );
  return true;
}
