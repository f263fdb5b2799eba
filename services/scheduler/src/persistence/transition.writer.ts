import type { RunState, StepState } from '@weft/core';
import { type ClaimOutboxOption, type OutboxMessage, type OutboxRecord, type TimerKey, type TimerRecord, type Transition, timerKey } from '../ports/run-store.port';
import { RunStoreError } from './run-store.errors';
import { iso, millis, runToJson } from './run-state.mapper';
import { stepsWithRows, stepWriteCte } from './step-rows.sql';
import { RELAXED_COMMIT, type Sql, insertRunSql } from './run-sql.util';

/** Where writeTransition's outbox rows go, and the marks that ride with it. */
export interface TransitionOutbox {
  claimMs: number;
  claimed?: (index: number) => boolean;
  /** Outbox rows (of any run) to mark published in the same statement (PendingMarks). */
  marks?: readonly string[];
}

/**
 * Everything a transition changes, in one statement. With `loaded`, the run row is
 * updated (guarded by the seq it had); without, it was just inserted. Outbox message
 * `i` is inserted claimed for `outbox.claimMs` when `outbox.claimed(i)`. Resolves with the
 * outbox rows inserted, in outbox order.
 */
export async function writeTransition(
  tx: Sql,
  runId: string,
  transition: Transition,
  steps: readonly StepState[],
  loaded: RunState | undefined,
  outbox: TransitionOutbox,
): Promise<OutboxRecord[]> {
  const statement = transitionStatement(runId, transition, steps, loaded, outbox, false, false, undefined);
  if (statement === undefined) return [];
  const rows: StatementRow[] = await tx.query(statement.sql, statement.params);
  if (rows[0].runs !== 1) {
    throw new RunStoreError('RUN_SEQ_CONFLICT', `run ${runId} changed outside updateRun (expected seq ${loaded?.seq ?? '?'})`);
  }
  return outboxRecords(runId, transition, rows[0]);
}

/**
 * writeTransition of an existing run as a statement of its own (autocommit: one round trip,
 * committed when it resolves; without the WAL flush when `relaxed`): every other write is
 * conditional on the run row's seq-guarded update, so when the run is not at `loaded.seq`
 * (another writer moved it on, or it is gone) nothing at all is written and it resolves
 * undefined. Else the outbox rows, and the database's time at the end of the statement.
 */
export async function writeTransitionAlone(
  sql: Sql,
  runId: string,
  transition: Transition,
  steps: readonly StepState[],
  loaded: RunState,
  outbox: TransitionOutbox,
  relaxed: boolean,
): Promise<{ rows: OutboxRecord[]; now: number } | undefined> {
  const statement = transitionStatement(runId, transition, steps, loaded, outbox, true, relaxed, undefined) as { sql: string; params: unknown[] };
  const rows: StatementRow[] = await sql.query(statement.sql, statement.params);
  if (rows[0].runs !== 1) return undefined;
  return { rows: outboxRecords(runId, transition, rows[0]), now: millis(rows[0].now as Date) };
}

/** A run row's columns but spec and plan, from `runToJson`'s JSON as `e` (writeTransition, writeGroupAlone). */
export const RUN_UPDATE_SET = `workflow = e->>'workflow', version = e->>'version', status = e->>'status', inputs = e->'inputs',
        outputs = e->'outputs', error = e->'error', extra = e->'extra', seq = (e->>'seq')::int, correlation_id = e->>'correlation_id',
        created_at = (e->>'created_at')::timestamptz, started_at = (e->>'started_at')::timestamptz,
        finished_at = (e->>'finished_at')::timestamptz, deadline_at = (e->>'deadline_at')::timestamptz, updated_at = clock_timestamp()`;

/** Who a new run is: its namespace and idempotency key (createRunAlone). */
export interface RunIdentity {
  namespace: string;
  idempotencyKey: string;
}

/**
 * A new run's creation as one autocommit statement (one round trip instead of the key lookup,
 * BEGIN, the time, the run row, its steps and outbox, COMMIT): the run row is inserted unless
 * a run with its key exists (read in the same statement, and `ON CONFLICT DO NOTHING` for one
 * committed meanwhile), and every other write of the transition is conditional on that insert,
 * so a run not inserted leaves nothing. Committed synchronously when it resolves. Resolves
 * `created` with the outbox rows and the database's time at the end of the statement, or not
 * created with the id of the run holding the key when the statement's snapshot saw it.
 */
export async function createRunAlone(
  sql: Sql,
  transition: Transition,
  steps: readonly StepState[],
  identity: RunIdentity,
  outbox: TransitionOutbox,
): Promise<{ created: true; rows: OutboxRecord[]; now: number } | { created: false; existing: string | undefined }> {
  const { runId } = transition.state;
  const statement = transitionStatement(runId, transition, steps, undefined, outbox, true, false, identity) as { sql: string; params: unknown[] };
  const rows: StatementRow[] = await sql.query(statement.sql, statement.params);
  if (rows[0].runs !== 1) return { created: false, existing: rows[0].existing ?? undefined };
  return { created: true, rows: outboxRecords(runId, transition, rows[0]), now: millis(rows[0].now as Date) };
}

interface StatementRow {
  runs: number;
  existing?: string | null;
  now?: Date;
  outbox_ids?: string[];
  outbox_at?: Date;
}

/**
 * The statement's data-modifying CTEs. `alone`: every write but the run row's waits for it
 * (`WHERE EXISTS (SELECT 1 FROM run_write)`), and the database's time is returned. `insert`
 * (alone, no `loaded`): the run row is inserted by the statement itself, unless its key is taken.
 */
function transitionStatement(
  runId: string,
  transition: Transition,
  steps: readonly StepState[],
  loaded: RunState | undefined,
  outbox: TransitionOutbox,
  alone: boolean,
  relaxed: boolean,
  insert: RunIdentity | undefined,
): { sql: string; params: unknown[] } | undefined {
  const claimed = outbox.claimed ?? (() => false);
  const { state } = transition;
  const params: unknown[] = [];
  const param = (value: unknown) => `$${params.push(value)}`;
  const json = (value: unknown) => `${param(JSON.stringify(value))}::jsonb`;
  const parts: string[] = [];
  // Alone (autocommit), a write the seq guard refused must leave no trace.
  const ifRun = alone ? ' WHERE EXISTS (SELECT 1 FROM run_write)' : '';
  const andRun = alone ? ' AND EXISTS (SELECT 1 FROM run_write)' : '';

  if (loaded) {
    // spec and plan never change in practice: neither rewritten (re-TOASTed) nor even sent unless they did,
    // so an event's statement does not grow with the run's size (a 100-step chain's plan alone is ~29 KB).
    const specChanged = state.spec !== loaded.spec;
    const planChanged = state.plan !== loaded.plan;
    const heavy = [specChanged ? `spec = e->'spec'` : '', planChanged ? `plan = e->'plan'` : ''].filter(Boolean);
    const { spec, plan, ...light } = runToJson(state);
    const row = { ...light, ...(specChanged && { spec }), ...(planChanged && { plan }) };
    parts.push(`run_write AS (
      UPDATE runs SET ${heavy.map((set) => `${set}, `).join('')}${RUN_UPDATE_SET}
      FROM (SELECT ${json(row)} AS e) AS input
      WHERE runs.id = ${param(runId)} AND runs.seq = ${param(loaded.seq)}
      RETURNING 1)`);
  } else if (insert) {
    // As createRun's transaction: the key looked up first; a run committed with it (or with this id) meanwhile is a conflict.
    parts.push(`existing AS (SELECT id FROM runs WHERE namespace = ${param(insert.namespace)} AND idempotency_key = ${param(insert.idempotencyKey)})`);
    parts.push(`run_write AS (
      ${insertRunSql(json(runToJson(state)), param(insert.namespace), param(insert.idempotencyKey), ' WHERE NOT EXISTS (SELECT 1 FROM existing)')}
      RETURNING 1)`);
  }
  // A cancel writes no row for a step it moved from untouched to canceled (stepsWithRows).
  const stepRows = stepsWithRows(state, loaded, steps);
  if (stepRows.length > 0) parts.push(stepWriteCte(runId, stepRows, param, ifRun));
  if (transition.outbox.length > 0) {
    const messages = transition.outbox.map((message, i) => ({ ...outboxToJson(message), claim: claimed(i) }));
    parts.push(outboxInsertCte(param(runId), json(messages), param(outbox.claimMs), ifRun));
  }
  if (outbox.marks !== undefined && outbox.marks.length > 0) parts.push(markWriteCte(json(outbox.marks), andRun));
  const { schedule, cancel } = timerWrites(transition);
  if (cancel.length > 0) parts.push(timerCancelCte(json(cancel.map(timerKeyToJson)), andRun));
  if (schedule.length > 0) parts.push(timerScheduleCte(json(schedule.map(timerToJson)), ifRun));
  if (relaxed) parts.push(`relaxed AS (${RELAXED_COMMIT})`);
  if (parts.length === 0) return undefined;
  const hasOutbox = transition.outbox.length > 0;
  return {
    sql: `WITH ${parts.join(',\n')}
     SELECT ${loaded || insert ? '(SELECT count(*) FROM run_write)::int' : '1'} AS runs${insert ? ', (SELECT id FROM existing) AS existing' : ''}${alone ? ', clock_timestamp() AS now' : ''}${
       hasOutbox ? `, (SELECT jsonb_agg(id::text ORDER BY id) FROM outbox_write) AS outbox_ids, (SELECT min(created_at) FROM outbox_write) AS outbox_at` : ''
     }${relaxed ? ', (SELECT count(*) FROM relaxed)::int AS relaxed' : ''}`,
    params,
  };
}

/** The outbox rows a statement that wrote the run inserted, in outbox order. */
function outboxRecords(runId: string, transition: Transition, row: StatementRow): OutboxRecord[] {
  const ids = row.outbox_ids ?? [];
  if (ids.length !== transition.outbox.length) throw new Error(`outbox insert returned ${ids.length} ids for ${transition.outbox.length} messages`);
  if (ids.length === 0) return [];
  // created_at defaults to the transaction's start: one value for every row of the statement.
  const createdAt = millis(row.outbox_at as Date);
  return transition.outbox.map((message, i) => outboxRecord(runId, message, ids[i] as string, createdAt));
}

/** The outbox row inserted for `message`: its id and creation time, as read back. */
export function outboxRecord(runId: string, message: OutboxMessage, id: string, createdAt: number): OutboxRecord {
  const record: OutboxRecord = { id, runId, createdAt, kind: message.kind, subject: message.subject, payload: message.payload ?? null, msgId: message.msgId };
  if (message.headers !== undefined) record.headers = message.headers;
  return record;
}

/** A message as an element of outboxInsertCte's input (the caller adds `claim`, and any other field). */
export const outboxToJson = (message: OutboxMessage) => ({
  kind: message.kind,
  subject: message.subject,
  payload: message.payload,
  msgId: message.msgId,
  headers: message.headers,
});

/**
 * The `outbox_write` CTE: a row per message of `input` (a jsonb SQL expression: an array of
 * outboxToJson's objects with `claim`, `m.e` in `runId` and `where`), inserted claimed for
 * `claimMs` (an SQL expression) when `claim`; `runId` the SQL expression of its run's id;
 * `where` (a ` WHERE ...` clause, or '') makes the write conditional. Ids come from the
 * sequence in insertion order (ORDER BY m.n): a run's sorted ids match its messages.
 */
export function outboxInsertCte(runId: string, input: string, claimMs: string, where = ''): string {
  return `outbox_write AS (
      INSERT INTO outbox (run_id, kind, subject, payload, msg_id, headers, claimed_until)
      SELECT ${runId}, m.e->>'kind', m.e->>'subject', coalesce(m.e->'payload', 'null'::jsonb), m.e->>'msgId', m.e->'headers',
             CASE WHEN (m.e->>'claim')::boolean THEN clock_timestamp() + ${claimMs}::int * interval '1 millisecond' END
      FROM jsonb_array_elements(${input}) WITH ORDINALITY AS m(e, n)${where}
      ORDER BY m.n
      RETURNING id, run_id, created_at)`;
}

/**
 * The `mark_write` CTE: marks published the outbox rows whose ids are in `input` (a jsonb array of
 * ids) and are not yet; `and` (` AND ...`) makes it conditional.
 */
export function markWriteCte(input: string, and = ''): string {
  // `id = ANY(ARRAY(...))`: an index lookup per id; `id IN (SELECT ...)` scanned the whole partial
  // index of unpublished rows (and its dead entries, ~500 under a chain) for a semi-join.
  return `mark_write AS (
      UPDATE outbox SET published_at = clock_timestamp(), claimed_until = NULL
      WHERE id = ANY(ARRAY(SELECT jsonb_array_elements_text(${input})::bigint)) AND published_at IS NULL${and}
      RETURNING 1)`;
}

/**
 * A transition's timer writes, each key once: per key the last schedule, and the cancels of keys
 * not scheduled (a key both canceled and scheduled ends scheduled: cancel first, then schedule, as
 * one statement cannot touch a row twice).
 */
export function timerWrites(transition: Pick<Transition, 'schedule' | 'cancel'>): { schedule: TimerRecord[]; cancel: TimerKey[] } {
  const schedule = [...new Map(transition.schedule.map((timer) => [timerKey(timer), timer])).values()];
  const scheduled = new Set(schedule.map(timerKey));
  const cancel = [...new Map(transition.cancel.filter((key) => !scheduled.has(timerKey(key))).map((key) => [timerKey(key), key])).values()];
  return { schedule, cancel };
}

/** The `timer_cancel` CTE: deletes the timers of `input` (a jsonb array of timerKeyToJson's objects, `e`); `and` (` AND ...`) makes it conditional. */
export function timerCancelCte(input: string, and = ''): string {
  return `timer_cancel AS (
      DELETE FROM timers t USING jsonb_array_elements(${input}) AS e
      WHERE t.run_id = e->>'runId' AND t.timer = e->>'timer' AND t.step_id = e->>'stepId' AND (e->>'fireAt' IS NULL OR t.fire_at <= (e->>'fireAt')::timestamptz)${and}
      RETURNING 1)`;
}

/** The `timer_write` CTE: upserts the timers of `input` (a jsonb array of timerToJson's objects, `e`); `where` (` WHERE ...`) makes it conditional. */
export function timerScheduleCte(input: string, where = ''): string {
  return `timer_write AS (
      INSERT INTO timers (run_id, timer, step_id, attempt, fire_at)
      SELECT e->>'runId', e->>'timer', e->>'stepId', (e->>'attempt')::int, (e->>'fireAt')::timestamptz
      FROM jsonb_array_elements(${input}) AS e${where}
      ON CONFLICT (run_id, timer, step_id) DO UPDATE SET attempt = excluded.attempt, fire_at = excluded.fire_at
      RETURNING 1)`;
}

/**
 * A timer row never falls due before its time: iso() keeps whole ms, so a time between two is
 * written at the later one. Rounded down, a scan could fire it at a decision time below the step's
 * `until`: the core ignores a timer fired early, the fire removes the row, and the run waited for
 * good (a rate permit's time is database time to the microsecond).
 */
export const timerToJson = (timer: TimerRecord) => ({ ...timerKeyToJson(timer), attempt: timer.attempt, fireAt: iso(Math.ceil(timer.fireAt)) });

/** A timer's key as an element of timerCancelCte's input. */
export const timerKeyToJson = (key: TimerKey) => ({ runId: key.runId, timer: key.timer, stepId: key.stepId, ...(key.fireAt !== undefined && { fireAt: iso(key.fireAt) }) });

/** Rows inserted claimed go to the caller; a throwing callback cannot undo the commit (the rows go out through the relay). */
export function handOver(rows: readonly OutboxRecord[], claimOutbox: ClaimOutboxOption['claimOutbox']): void {
  if (rows.length === 0 || claimOutbox === undefined) return;
  try {
    claimOutbox(rows);
  } catch {
    // The rows stay claimed; pendingOutbox hands them out once the claim lapses.
  }
}
