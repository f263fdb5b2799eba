import type { RunState, StepState } from '@weft/core';
import { type OutboxRecord, type TimerKey, type Transition, timerKey } from '../ports/run-store.port';
import { iso, millis, runToJson, stepToJson } from './run-state.mapper';
import { RELAXED_COMMIT, type Sql } from './run-sql.util';
import { RUN_UPDATE_SET, type TransitionOutbox } from './transition.writer';

/** One run's part of a group statement: a transition decided on its cached state `loaded`. */
export interface GroupMember {
  runId: string;
  transition: Transition;
  /** The steps the transition changed. */
  steps: readonly StepState[];
  loaded: RunState;
  /** Outbox message `i` of the transition is inserted claimed. */
  claimed: (index: number) => boolean;
}

/** What a group statement committed: per run written, its outbox rows in outbox order; runs refused are absent. */
export interface GroupWritten {
  written: Map<string, OutboxRecord[]>;
  /** The database's time at the end of the statement. */
  now: number;
}

/**
 * Several runs' transitions as ONE autocommit statement (one round trip, one WAL flush; none
 * when `relaxed`): each run's row is updated guarded by the seq of its cached state, and each
 * of its other writes (steps, outbox rows, timers) is conditional on that update, so a run
 * another writer moved on (or that is gone) leaves no trace and is absent from `written`; the
 * marks are written when any run was. The runs' rows are locked in id order first, in one
 * `SELECT ... ORDER BY id FOR UPDATE` the update waits for, as `lockGroup`'s transaction
 * does: replicas doing either cannot deadlock on runs rows. Every per-run input travels in
 * jsonb arrays, so the text depends only on which kinds of write the group has (at most 64
 * texts, whatever the number of runs: namedStatements prepares each once per connection).
 * Runs whose spec or plan changed (`RUN_UPDATE_SET` never rewrites them) or that are canceled
 * (writeTransition writes fewer of their step rows) are written by writeTransition instead.
 */
export async function writeGroupAlone(sql: Sql, members: readonly GroupMember[], outbox: Omit<TransitionOutbox, 'claimed'>, relaxed: boolean): Promise<GroupWritten> {
  const statement = groupStatement(members, outbox, relaxed);
  const rows: { written: string[]; now: Date; outbox: [string, string][] | null; outbox_at: Date | null }[] = await sql.query(statement.sql, statement.params);
  const row = rows[0];
  const ids = new Map<string, string[]>();
  for (const [runId, id] of row.outbox ?? []) {
    const mine = ids.get(runId);
    if (mine) mine.push(id);
    else ids.set(runId, [id]);
  }
  const written = new Map<string, OutboxRecord[]>();
  const byRun = new Map(members.map((member) => [member.runId, member]));
  for (const runId of row.written) {
    const member = byRun.get(runId);
    if (member === undefined) continue;
    const mine = ids.get(runId) ?? [];
    const messages = member.transition.outbox;
    if (mine.length !== messages.length) throw new Error(`outbox insert returned ${mine.length} ids for ${messages.length} messages of run ${runId}`);
    // created_at defaults to the transaction's start: one value for every row of the statement.
    const createdAt = row.outbox_at === null ? 0 : millis(row.outbox_at);
    written.set(
      runId,
      messages.map((message, i) => {
        const record: OutboxRecord = { id: mine[i], runId, createdAt, kind: message.kind, subject: message.subject, payload: message.payload ?? null, msgId: message.msgId };
        if (message.headers !== undefined) record.headers = message.headers;
        return record;
      }),
    );
  }
  return { written, now: millis(row.now) };
}

function groupStatement(members: readonly GroupMember[], outbox: Omit<TransitionOutbox, 'claimed'>, relaxed: boolean): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const param = (value: unknown) => `$${params.push(value)}`;
  const json = (value: unknown) => `${param(JSON.stringify(value))}::jsonb`;
  const ordered = [...members].sort((a, b) => (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0));
  const runs = json(
    ordered.map(({ transition, loaded }) => {
      const { spec: _spec, plan: _plan, ...light } = runToJson(transition.state);
      return { ...light, expected: loaded.seq };
    }),
  );
  const steps: { run: string; row: unknown; ids: string[] }[] = [];
  const messages: Record<string, unknown>[] = [];
  const cancels: Record<string, unknown>[] = [];
  const schedules: Record<string, unknown>[] = [];
  for (const member of ordered) {
    const { runId, transition } = member;
    // Steps changed alike travel as one row with their ids (as stepWriteCte).
    const shapes = new Map<string, string[]>();
    for (const step of member.steps) {
      const { run_id: _run, step_id: _step, ...row } = stepToJson(runId, step);
      const shape = JSON.stringify(row);
      const same = shapes.get(shape);
      if (same) same.push(step.id);
      else shapes.set(shape, [step.id]);
    }
    for (const [shape, ids] of shapes) steps.push({ run: runId, row: JSON.parse(shape) as unknown, ids });
    transition.outbox.forEach((message, i) =>
      messages.push({ run: runId, kind: message.kind, subject: message.subject, payload: message.payload, msgId: message.msgId, headers: message.headers, claim: member.claimed(i) }),
    );
    // As writeTransition: a key both canceled and scheduled ends scheduled; one statement cannot touch a row twice.
    const schedule = [...new Map(transition.schedule.map((timer) => [timerKey(timer), timer])).values()];
    const scheduled = new Set(schedule.map(timerKey));
    for (const key of new Map(transition.cancel.filter((k) => !scheduled.has(timerKey(k))).map((k) => [timerKey(k), k])).values()) {
      cancels.push({ owner: runId, ...timerKeyToJson(key) });
    }
    for (const timer of schedule) schedules.push({ owner: runId, ...timerKeyToJson(timer), attempt: timer.attempt, fireAt: iso(timer.fireAt) });
  }

  const written = '(SELECT run_id FROM run_write)';
  const parts = [
    // Every run row locked in id order before any is written (ARRAY(...) is computed in full first).
    `locked AS (SELECT id FROM runs WHERE id = ANY(ARRAY(SELECT r->>'id' FROM jsonb_array_elements(${runs}) AS r)) ORDER BY id FOR UPDATE)`,
    `run_write AS (
      UPDATE runs SET ${RUN_UPDATE_SET}
      FROM jsonb_array_elements(${runs}) AS input(e)
      WHERE runs.id = ANY(ARRAY(SELECT id FROM locked)) AND runs.id = e->>'id' AND runs.seq = (e->>'expected')::int
      RETURNING runs.id AS run_id)`,
  ];
  if (steps.length > 0) {
    parts.push(`step_write AS (
      INSERT INTO step_runs (run_id, step_id, status, attempt, token, queued_at, started_at, finished_at, lease_expires_at,
                             next_attempt_at, output, error, attempts, extra, updated_at)
      SELECT g.v->>'run', id, e->>'status', (e->>'attempt')::int, e->>'token', (e->>'queued_at')::timestamptz,
             (e->>'started_at')::timestamptz, (e->>'finished_at')::timestamptz, (e->>'lease_expires_at')::timestamptz,
             (e->>'next_attempt_at')::timestamptz, e->'output', e->'error', e->'attempts', e->'extra', clock_timestamp()
      FROM jsonb_array_elements(${json(steps)}) AS g(v)
      CROSS JOIN LATERAL (SELECT g.v->'row' AS e) AS shape
      CROSS JOIN LATERAL jsonb_array_elements_text(g.v->'ids') AS id
      WHERE g.v->>'run' IN ${written}
      ON CONFLICT (run_id, step_id) DO UPDATE SET status = excluded.status, attempt = excluded.attempt, token = excluded.token,
        queued_at = excluded.queued_at, started_at = excluded.started_at, finished_at = excluded.finished_at,
        lease_expires_at = excluded.lease_expires_at, next_attempt_at = excluded.next_attempt_at, output = excluded.output,
        error = excluded.error, attempts = excluded.attempts, extra = excluded.extra, updated_at = excluded.updated_at
      RETURNING 1)`);
  }
  if (messages.length > 0) {
    // Ids come from the sequence in insertion order (ORDER BY m.n): a run's sorted ids match its messages.
    parts.push(`outbox_write AS (
      INSERT INTO outbox (run_id, kind, subject, payload, msg_id, headers, claimed_until)
      SELECT m.e->>'run', m.e->>'kind', m.e->>'subject', coalesce(m.e->'payload', 'null'::jsonb), m.e->>'msgId', m.e->'headers',
             CASE WHEN (m.e->>'claim')::boolean THEN clock_timestamp() + ${param(outbox.claimMs)}::int * interval '1 millisecond' END
      FROM jsonb_array_elements(${json(messages)}) WITH ORDINALITY AS m(e, n)
      WHERE m.e->>'run' IN ${written}
      ORDER BY m.n
      RETURNING id, run_id, created_at)`);
  }
  if (outbox.marks !== undefined && outbox.marks.length > 0) {
    parts.push(`mark_write AS (
      UPDATE outbox SET published_at = clock_timestamp(), claimed_until = NULL
      WHERE id = ANY(ARRAY(SELECT jsonb_array_elements_text(${json(outbox.marks)})::bigint)) AND published_at IS NULL AND EXISTS (SELECT 1 FROM run_write)
      RETURNING 1)`);
  }
  if (cancels.length > 0) {
    parts.push(`timer_cancel AS (
      DELETE FROM timers t USING jsonb_array_elements(${json(cancels)}) AS e
      WHERE t.run_id = e->>'runId' AND t.timer = e->>'timer' AND t.step_id = e->>'stepId' AND (e->>'fireAt' IS NULL OR t.fire_at <= (e->>'fireAt')::timestamptz)
        AND e->>'owner' IN ${written}
      RETURNING 1)`);
  }
  if (schedules.length > 0) {
    parts.push(`timer_write AS (
      INSERT INTO timers (run_id, timer, step_id, attempt, fire_at)
      SELECT e->>'runId', e->>'timer', e->>'stepId', (e->>'attempt')::int, (e->>'fireAt')::timestamptz
      FROM jsonb_array_elements(${json(schedules)}) AS e
      WHERE e->>'owner' IN ${written}
      ON CONFLICT (run_id, timer, step_id) DO UPDATE SET attempt = excluded.attempt, fire_at = excluded.fire_at
      RETURNING 1)`);
  }
  if (relaxed) parts.push(`relaxed AS (${RELAXED_COMMIT})`);
  const outboxColumns =
    messages.length > 0
      ? `(SELECT jsonb_agg(jsonb_build_array(run_id, id::text) ORDER BY id) FROM outbox_write) AS outbox, (SELECT min(created_at) FROM outbox_write) AS outbox_at`
      : 'NULL::jsonb AS outbox, NULL::timestamptz AS outbox_at';
  return {
    sql: `WITH ${parts.join(',\n')}
     SELECT (SELECT coalesce(jsonb_agg(run_id), '[]'::jsonb) FROM run_write) AS written, clock_timestamp() AS now, ${outboxColumns}${
       relaxed ? ', (SELECT count(*) FROM relaxed)::int AS relaxed' : ''
     }`,
    params,
  };
}

const timerKeyToJson = (key: TimerKey) => ({ runId: key.runId, timer: key.timer, stepId: key.stepId, ...(key.fireAt !== undefined && { fireAt: iso(key.fireAt) }) });
