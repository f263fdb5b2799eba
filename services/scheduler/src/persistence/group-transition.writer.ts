import type { RunState, StepState } from '@weft/core';
import type { OutboxRecord, Transition } from '../ports/run-store.port';
import { millis, runToJson } from './run-state.mapper';
import { RELAXED_COMMIT, type Sql } from './run-sql.util';
import { stepShapes, stepUpsertCte } from './step-rows.sql';
import {
  RUN_UPDATE_SET,
  type TransitionOutbox,
  markWriteCte,
  outboxInsertCte,
  outboxRecord,
  outboxToJson,
  timerCancelCte,
  timerKeyToJson,
  timerScheduleCte,
  timerToJson,
  timerWrites,
} from './transition.writer';

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
      messages.map((message, i) => outboxRecord(runId, message, mine[i] as string, createdAt)),
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
  const steps: string[] = [];
  const messages: Record<string, unknown>[] = [];
  const cancels: Record<string, unknown>[] = [];
  const schedules: Record<string, unknown>[] = [];
  for (const member of ordered) {
    const { runId, transition } = member;
    steps.push(...stepShapes(runId, member.steps, `"run":${JSON.stringify(runId)},`));
    transition.outbox.forEach((message, i) => messages.push({ run: runId, ...outboxToJson(message), claim: member.claimed(i) }));
    const { schedule, cancel } = timerWrites(transition);
    for (const key of cancel) cancels.push({ owner: runId, ...timerKeyToJson(key) });
    for (const timer of schedule) schedules.push({ owner: runId, ...timerToJson(timer) });
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
  if (steps.length > 0) parts.push(stepUpsertCte(`g.v->>'run'`, `${param(`[${steps.join(',')}]`)}::jsonb`, ` WHERE g.v->>'run' IN ${written}`));
  if (messages.length > 0) parts.push(outboxInsertCte(`m.e->>'run'`, json(messages), param(outbox.claimMs), ` WHERE m.e->>'run' IN ${written}`));
  if (outbox.marks !== undefined && outbox.marks.length > 0) {
    parts.push(markWriteCte(json(outbox.marks), ' AND EXISTS (SELECT 1 FROM run_write)'));
  }
  if (cancels.length > 0) parts.push(timerCancelCte(json(cancels), ` AND e->>'owner' IN ${written}`));
  if (schedules.length > 0) parts.push(timerScheduleCte(json(schedules), ` WHERE e->>'owner' IN ${written}`));
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

