import type { Actor, ReviewDecision, SignalSend } from '@weft/contracts';
import { withTransaction } from '@weft/db';
import type { DataSource } from 'typeorm';
import type {
  AuditQuery,
  AuditRecord,
  Delivery,
  ExceptionItem,
  ExceptionKind,
  ExceptionQuery,
  Page,
  ReviewQuery,
  ReviewRecord,
  ReviewStatus,
  SignalQuery,
  StoredSignal,
  WaitStore,
} from '../ports/wait-store.port';
import { iso, millis } from './run-state.mapper';
import { listExceptionRows, listResolutionRows, resolveExceptionRow } from './sql-exceptions.query';
import { nextBacklogPage } from './wait-backlog.util';
import { lockMeeting } from './wait-rows.writer';
import { meetingLocks, page, signalDetails } from './wait-rows.util';
import { namespaceFilter } from './run-sql.util';

interface SignalRow {
  namespace: string;
  id: string;
  name: string;
  key: string | null;
  data: unknown;
  received_at: Date;
}

interface ReviewRow {
  id: string;
  namespace: string;
  run_id: string;
  workflow: string;
  step_id: string;
  attempt: number;
  status: string;
  title: string;
  instructions: string | null;
  assignees: string[];
  tier: number;
  overdue: boolean;
  by_rule: boolean;
  form: Record<string, unknown> | null;
  output: unknown;
  opened_at: Date;
  deadline_at: Date | null;
  decided_at: Date | null;
  decision: string | null;
  actor: Actor | null;
  comment: string | null;
  payload: unknown;
  decision_id: string | null;
}

const SIGNAL_COLUMNS = 'namespace, id, name, key, data, received_at';
const REVIEW_COLUMNS =
  'id, namespace, run_id, workflow, step_id, attempt, status, title, instructions, assignees, tier, overdue, by_rule, form, output, opened_at, deadline_at, decided_at, decision, actor, comment, payload, decision_id';

/** WaitStore on PostgreSQL or PGlite; the wait and review rows themselves are written with runs' transitions (writeWaitRows). */
export class SqlWaitStore implements WaitStore {
  constructor(private readonly dataSource: DataSource) {}

  storeSignal(namespace: string, send: SignalSend & { id: string }, actor: Actor): Promise<{ signal: StoredSignal; created: boolean }> {
    return withTransaction(this.dataSource, async (tx) => {
      for (const lock of meetingLocks(namespace, send.name, send.key)) await lockMeeting(tx, lock);
      const inserted: SignalRow[] = await tx.query(
        `INSERT INTO signals (namespace, id, name, key, data, received_at) VALUES ($1, $2, $3, $4, $5::jsonb, date_trunc('milliseconds', clock_timestamp()))
         ON CONFLICT DO NOTHING RETURNING ${SIGNAL_COLUMNS}`,
        [namespace, send.id, send.name, send.key ?? null, send.data === undefined ? null : JSON.stringify(send.data)],
      );
      const row = inserted[0];
      if (row === undefined) {
        const existing: SignalRow[] = await tx.query(`SELECT ${SIGNAL_COLUMNS} FROM signals WHERE namespace = $1 AND id = $2`, [namespace, send.id]);
        const first = existing[0];
        if (first === undefined) throw new Error(`signal ${send.id} neither inserted nor found`);
        return { signal: toSignal(first), created: false };
      }
      // Every registered wait this signal meets (keyless waits take any key); match is the core's to check.
      await tx.query(
        `INSERT INTO signal_deliveries (run_id, step_id, namespace, signal_id, token, received_at)
         SELECT w.run_id, w.step_id, $1, $2, w.token, $5::timestamptz FROM signal_waits w
         WHERE w.namespace = $1 AND w.name = $3 AND (w.key IS NULL OR w.key = $4::text) AND w.since <= $5::timestamptz AND $5::timestamptz < w.expires_at
         ON CONFLICT DO NOTHING`,
        [namespace, send.id, send.name, send.key ?? null, iso(millis(row.received_at))],
      );
      const signal = toSignal(row);
      await tx.query(
        `INSERT INTO audit (at, namespace, actor, action, target_kind, target_id, details) VALUES ($1::timestamptz, $2, $3::jsonb, 'signal.sent', 'signal', $4, $5::jsonb)`,
        [iso(signal.receivedAt), namespace, JSON.stringify(actor), send.id, JSON.stringify(signalDetails(signal))],
      );
      return { signal, created: true };
    });
  }

  async listSignals(namespace: string, query: SignalQuery): Promise<Page<StoredSignal>> {
    const { where, params, param } = namespaceFilter(namespace);
    if (query.name !== undefined) where.push(`name = ${param(query.name)}`);
    if (query.key !== undefined) where.push(`key = ${param(query.key)}`);
    if (query.since !== undefined) where.push(`received_at >= ${param(iso(query.since))}::timestamptz`);
    if (query.after !== undefined) where.push(`(received_at, id) > (${param(iso(query.after.at))}::timestamptz, ${param(query.after.id)})`);
    const rows: SignalRow[] = await this.dataSource.query(
      `SELECT ${SIGNAL_COLUMNS} FROM signals WHERE ${where.join(' AND ')} ORDER BY received_at, id LIMIT ${param(query.limit + 1)}`,
      params,
    );
    return page(rows.map(toSignal), query.limit, (s) => ({ at: s.receivedAt, id: s.id }));
  }

  async pendingDeliveries(limit: number): Promise<Delivery[]> {
    const rows: (SignalRow & { run_id: string; step_id: string; token: string })[] = await this.dataSource.query(
      `SELECT d.run_id, d.step_id, d.token, s.namespace, s.id, s.name, s.key, s.data, s.received_at
       FROM signal_deliveries d JOIN signals s ON s.namespace = d.namespace AND s.id = d.signal_id
       ORDER BY d.received_at, d.signal_id LIMIT $1`,
      [limit],
    );
    return rows.map((row) => {
      const { namespace: _ns, ...signal } = toSignal(row);
      return { runId: row.run_id, stepId: row.step_id, token: row.token, signal };
    });
  }

  dropDelivery(delivery: Pick<Delivery, 'runId' | 'stepId' | 'signal'>): Promise<boolean> {
    return withTransaction(this.dataSource, async (tx) => {
      await tx.query('DELETE FROM signal_deliveries WHERE run_id = $1 AND step_id = $2 AND signal_id = $3', [delivery.runId, delivery.stepId, delivery.signal.id]);
      // The wait's lookback page is used up and it still waits: hand over the next page.
      return nextBacklogPage(tx, delivery.runId, delivery.stepId);
    });
  }

  async purgeSignals(before: number): Promise<number> {
    // A SELECT around the DELETE: TypeORM answers a bare DELETE with [rows, count], not rows.
    const rows: { n: number }[] = await this.dataSource.query('WITH purged AS (DELETE FROM signals WHERE received_at < $1::timestamptz RETURNING 1) SELECT count(*)::int AS n FROM purged', [iso(before)]);
    return rows[0]?.n ?? 0;
  }

  async getReview(namespace: string, id: string): Promise<ReviewRecord | undefined> {
    const rows: ReviewRow[] = await this.dataSource.query(`SELECT ${REVIEW_COLUMNS} FROM reviews WHERE namespace = $1 AND id = $2`, [namespace, id]);
    return rows[0] === undefined ? undefined : toReview(rows[0]);
  }

  async listReviews(namespace: string, query: ReviewQuery): Promise<Page<ReviewRecord>> {
    const { where, params, param } = namespaceFilter(namespace);
    if (query.status !== undefined) where.push(`status = ${param(query.status)}`);
    if (query.workflow !== undefined) where.push(`workflow = ${param(query.workflow)}`);
    if (query.assignee !== undefined) where.push(`assignees @> ${param(JSON.stringify([query.assignee]))}::jsonb`);
    if (query.after !== undefined) where.push(`(opened_at, id) > (${param(iso(query.after.at))}::timestamptz, ${param(query.after.id)})`);
    const rows: ReviewRow[] = await this.dataSource.query(
      `SELECT ${REVIEW_COLUMNS} FROM reviews WHERE ${where.join(' AND ')} ORDER BY opened_at, id LIMIT ${param(query.limit + 1)}`,
      params,
    );
    return page(rows.map(toReview), query.limit, (r) => ({ at: r.openedAt, id: r.id }));
  }

  async appendAudit(namespace: string, actor: Actor, action: string, target: AuditRecord['target'], details: Record<string, unknown>): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO audit (at, namespace, actor, action, target_kind, target_id, details)
       VALUES (date_trunc('milliseconds', clock_timestamp()), $1, $2::jsonb, $3, $4, $5, $6::jsonb)`,
      [namespace, JSON.stringify(actor), action, target.kind, target.id, JSON.stringify(details)],
    );
  }

  async listAudit(namespace: string, query: AuditQuery): Promise<Page<AuditRecord>> {
    const { where, params, param } = namespaceFilter(namespace);
    if (query.action !== undefined) where.push(`action = ${param(query.action)}`);
    if (query.actor !== undefined) where.push(query.actor === 'local' ? `actor = '"local"'::jsonb` : `actor->>'keyId' = ${param(query.actor)}`);
    if (query.target !== undefined) where.push(`target_kind = ${param(query.target.kind)} AND target_id = ${param(query.target.id)}`);
    if (query.since !== undefined) where.push(`at >= ${param(iso(query.since))}::timestamptz`);
    if (query.after !== undefined) where.push(`(at, id) > (${param(iso(query.after.at))}::timestamptz, ${param(query.after.id)}::bigint)`);
    const rows: { id: string; at: Date; namespace: string; actor: Actor; action: string; target_kind: string; target_id: string; details: Record<string, unknown> }[] =
      await this.dataSource.query(
        `SELECT id::text AS id, at, namespace, actor, action, target_kind, target_id, details FROM audit WHERE ${where.join(' AND ')} ORDER BY at, id LIMIT ${param(query.limit + 1)}`,
        params,
      );
    const records = rows.map((r): AuditRecord => ({ id: r.id, at: millis(r.at), namespace: r.namespace, actor: r.actor, action: r.action, target: { kind: r.target_kind, id: r.target_id }, details: r.details }));
    return page(records, query.limit, (r) => ({ at: r.at, id: r.id }));
  }

  listExceptions(namespace: string, query: ExceptionQuery): Promise<Page<ExceptionItem>> {
    return listExceptionRows(this.dataSource, namespace, query);
  }

  resolveException(namespace: string, kind: ExceptionKind, id: string, note: string, actor: Actor, options: { listedElsewhere?: boolean } = {}): Promise<'resolved' | 'already' | 'unknown'> {
    return resolveExceptionRow(this.dataSource, namespace, kind, id, note, actor, options.listedElsewhere === true);
  }

  listResolutions(namespace: string, kind: ExceptionKind, ids: readonly string[]): Promise<Map<string, NonNullable<ExceptionItem['resolved']>>> {
    return listResolutionRows(this.dataSource, namespace, kind, ids);
  }

  async counts(): Promise<{ signals: number; waits: number; deliveries: number; reviews: number }> {
    const rows: { signals: number; waits: number; deliveries: number; reviews: number }[] = await this.dataSource.query(
      `SELECT (SELECT count(*) FROM signals)::int AS signals, (SELECT count(*) FROM signal_waits)::int AS waits,
              (SELECT count(*) FROM signal_deliveries)::int AS deliveries, (SELECT count(*) FROM reviews)::int AS reviews`,
    );
    return rows[0] ?? { signals: 0, waits: 0, deliveries: 0, reviews: 0 };
  }
}

function toSignal(row: SignalRow): StoredSignal {
  const signal: StoredSignal = { namespace: row.namespace, id: row.id, name: row.name, receivedAt: millis(row.received_at) };
  if (row.key !== null) signal.key = row.key;
  if (row.data !== null) signal.data = row.data;
  return signal;
}

function toReview(row: ReviewRow): ReviewRecord {
  const review: ReviewRecord = {
    id: row.id,
    namespace: row.namespace,
    runId: row.run_id,
    workflow: row.workflow,
    stepId: row.step_id,
    attempt: row.attempt,
    status: row.status as ReviewStatus,
    title: row.title,
    assignees: row.assignees,
    tier: row.tier,
    overdue: row.overdue,
    byRule: row.by_rule,
    output: row.output,
    openedAt: millis(row.opened_at),
  };
  if (row.instructions !== null) review.instructions = row.instructions;
  if (row.form !== null) review.form = row.form;
  if (row.deadline_at !== null) review.deadlineAt = millis(row.deadline_at);
  if (row.decided_at !== null) review.decidedAt = millis(row.decided_at);
  if (row.decision !== null) review.decision = row.decision as ReviewDecision;
  if (row.actor !== null) review.actor = row.actor;
  if (row.comment !== null) review.comment = row.comment;
  if (row.payload !== null) review.payload = row.payload;
  if (row.decision_id !== null) review.decisionId = row.decision_id;
  return review;
}
