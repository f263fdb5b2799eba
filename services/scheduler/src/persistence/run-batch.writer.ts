import { changedSteps, type RunState } from '@weft/core';
import { withTransaction } from '@weft/db';
import type { DataSource } from 'typeorm';
import { type OutboxRecord, type TimerKey, type TimerRecord, type Transition, timerKey } from '../ports/run-store.port';
import { millis } from './run-state.mapper';
import { loadRun, namedStatements, RELAXED_COMMIT, type Sql } from './run-sql.util';
import type { RunStateCache } from './run-state.cache';
import type { DbClock } from './db-clock';
import type { PendingUpdate } from './run-update.batcher';
import type { PendingMarks } from './pending-marks';
import { handOver, writeTransition, writeTransitionAlone } from './transition.writer';
import { writeWaitRows } from './wait-rows.writer';

/** One run's calls for one transaction. */
export interface RunBatch {
  runId: string;
  calls: readonly PendingUpdate[];
}

/** What one batch's write produced, settled after the commit. */
class BatchResult {
  outcomes: ({ state: RunState | undefined } | { error: unknown })[] = [];
  /** The outbox rows each call inserted (claimed or not), by call index. */
  written = new Map<number, OutboxRecord[]>();
  committed: RunState | undefined;
  /** The time the calls were decided at. */
  at: number | undefined;

  /** Before each try of the transaction. */
  reset(): void {
    this.outcomes = [];
    this.written = new Map();
    this.committed = undefined;
    this.at = undefined;
  }

  /**
   * Calls each update's `decide` in turn on the state the previous one left (a throwing decide
   * fails only its own call): the last state, the transitions, and per outbox message of their
   * merged write the index of the call it belongs to.
   */
  decide(calls: readonly PendingUpdate[], loaded: RunState, now: number): { current: RunState; transitions: Transition[]; owners: number[] } {
    let current = loaded;
    const transitions: Transition[] = [];
    const owners: number[] = [];
    for (const [index, call] of calls.entries()) {
      let transition: Transition | undefined;
      try {
        transition = call.decide(current, now);
      } catch (error) {
        this.outcomes.push({ error });
        continue;
      }
      if (transition) {
        transitions.push(transition);
        for (let n = 0; n < transition.outbox.length; n++) owners.push(index);
        current = transition.state;
      }
      this.outcomes.push({ state: current });
    }
    return { current, transitions, owners };
  }

  /** Committed: rows inserted claimed go to their callers (in commit order), then the calls resolve. */
  settle(calls: readonly PendingUpdate[]): void {
    calls.forEach((call, n) => handOver(this.written.get(n) ?? [], call.claimOutbox));
    calls.forEach((call, n) => {
      const outcome = this.outcomes[n];
      if (outcome === undefined) call.resolve(undefined);
      else if ('error' in outcome) call.reject(outcome.error);
      else call.resolve(outcome.state);
    });
  }
}

/**
 * Commits one batch of a run's updates (from RunUpdateBatcher) in one transaction: lock the
 * run (its cached state when the seq still matches, else loaded), call each update's
 * `decide` in turn on the state the previous one left, write the merged transition, commit;
 * then hand each call's outbox rows to its `claimOutbox` (publish after commit) and settle it.
 */
export class RunBatchWriter {
  /** writeAlone's statements, prepared once per connection and shape (namedStatements). */
  private readonly alone: Sql;

  constructor(
    private readonly dataSource: DataSource,
    private readonly cache: RunStateCache,
    /** How long outbox rows inserted claimed stay claimed (ms). */
    private readonly outboxClaimMs: number,
    /** Published marks that ride in the batch's statement when it writes (SqlRunStoreOptions.markLingerMs). */
    private readonly marks?: PendingMarks,
    /**
     * The database's time without a query: with it, a lone run whose state is cached is
     * written in one statement (writeAlone). Without, every batch takes the transaction.
     */
    private readonly clock?: DbClock,
  ) {
    const named = namedStatements(dataSource);
    this.alone = { query: <T>(sql: string, params?: unknown[]) => named(sql, params) as Promise<T> };
  }

  /**
   * Settles every call (a throwing decide fails only its own call). Several runs' batches in one transaction (group commit): their rows are locked in id
   * order in one statement (replicas doing the same cannot deadlock), each batch is decided
   * and written as `commit` does, and one COMMIT (one WAL flush) covers them all. When the
   * group's transaction fails, each batch is committed on its own, so one run's failure
   * (a seq conflict, a value the database refuses) fails only that run's calls.
   */
  async commitGroup(batches: readonly RunBatch[]): Promise<void> {
    if (batches.length > 1) {
      try {
        await this.write(batches, true);
        return;
      } catch {
        // One batch at a time below: each succeeds or fails alone.
      }
    }
    for (const batch of batches) {
      try {
        if (batches.length === 1 && (await this.writeAlone(batch))) continue;
        await this.write([batch], false);
      } catch (error) {
        for (const call of batch.calls) call.reject(error);
      }
    }
  }

  /** Writes `batches` in one transaction and settles their calls; throws (settling nothing) when it fails. */
  private async write(batches: readonly RunBatch[], grouped: boolean): Promise<void> {
    const results = batches.map(() => new BatchResult());
    let ride: ReturnType<PendingMarks['take']>;
    try {
      // A transaction of relaxed changes only (heartbeats) commits without waiting for the WAL flush.
      const relaxed = batches.every((batch) => batch.calls.every((call) => call.relaxed));
      await withTransaction(this.dataSource, async (tx) => {
        results.forEach((result) => result.reset());
        ride = undefined;
        const heads = grouped ? await this.lockGroup(tx, batches, relaxed) : undefined;
        for (const [i, { runId, calls }] of batches.entries()) {
          const result = results[i] as BatchResult;
          const head = heads ? heads.get(runId) ?? null : this.cache.has(runId) ? await this.lockCached(tx, runId, relaxed) : undefined;
          let loaded: RunState;
          let now: number;
          if (head !== undefined) {
            if (head === null) {
              calls.forEach(() => result.outcomes.push({ state: undefined }));
              continue;
            }
            now = head.now;
            const state = head.state ?? (await loadRun(tx, runId, false))?.state;
            if (state === undefined) {
              calls.forEach(() => result.outcomes.push({ state: undefined }));
              continue;
            }
            loaded = state;
          } else {
            const fresh = await loadRun(tx, runId, true, relaxed);
            if (fresh === undefined) {
              calls.forEach(() => result.outcomes.push({ state: undefined }));
              continue;
            }
            ({ state: loaded, now } = fresh);
            this.clock?.observe(now);
          }
          const { current, transitions, owners } = result.decide(calls, loaded, now);
          result.committed = current;
          result.at = now;
          if (transitions.length === 0) continue;
          // The core returns new objects for the steps it changed and shares the rest (O(changed), not O(steps)).
          const changed = changedSteps(loaded.steps, current.steps);
          const merged = mergeTransitions(current, transitions);
          const marks = ride === undefined ? (ride = this.marks?.take()) : undefined;
          const rows = await writeTransition(tx, runId, merged, changed, loaded, {
            claimMs: this.outboxClaimMs,
            claimed: (n) => calls[owners[n] as number]?.claimOutbox !== undefined,
            ...(marks && { marks: marks.ids }),
          });
          if (merged.waits !== undefined) await writeWaitRows(tx, current, merged.waits);
          rows.forEach((row, n) => {
            const owner = owners[n] as number;
            const mine = result.written.get(owner);
            if (mine) mine.push(row);
            else result.written.set(owner, [row]);
          });
        }
      });
    } catch (error) {
      ride?.settle(error);
      for (const { runId } of batches) this.cache.forget(runId);
      throw error;
    }
    ride?.settle();
    for (const [i, { calls }] of batches.entries()) {
      const result = results[i] as BatchResult;
      if (result.committed) this.cache.remember(result.committed, result.at);
      result.settle(calls);
    }
  }

  /**
   * A lone run whose state is cached, in one round trip instead of four (BEGIN, lock, write,
   * COMMIT): the calls are decided on the cached state at the database's estimated time
   * (DbClock, never before the time the run's state was last decided at), and the merged
   * write goes as one autocommit statement guarded by the cached seq (writeTransitionAlone).
   * Resolves false, having written and settled nothing, when the transaction must do it:
   * nothing cached or no recent clock reading, a decision that changes nothing or writes
   * waits (a second statement), or the run was not at the cached seq (another writer moved
   * it on: the cache forgets it and the transaction reloads it and decides again).
   */
  private async writeAlone({ runId, calls }: RunBatch): Promise<boolean> {
    const loaded = this.cache.latest(runId);
    const estimate = this.clock?.now();
    if (loaded === undefined || estimate === undefined) return false;
    const now = Math.max(estimate, this.cache.timeOf(runId) ?? estimate);
    const result = new BatchResult();
    const { current, transitions, owners } = result.decide(calls, loaded, now);
    // Nothing to write proves nothing about the cached seq; waits take a statement of their own.
    if (transitions.length === 0) return false;
    const merged = mergeTransitions(current, transitions);
    if (merged.waits !== undefined) return false;
    const ride = this.marks?.take();
    let written: Awaited<ReturnType<typeof writeTransitionAlone>>;
    try {
      written = await writeTransitionAlone(
        this.alone,
        runId,
        merged,
        changedSteps(loaded.steps, current.steps),
        loaded,
        {
          claimMs: this.outboxClaimMs,
          claimed: (n) => calls[owners[n] as number]?.claimOutbox !== undefined,
          ...(ride && { marks: ride.ids }),
        },
        calls.every((call) => call.relaxed),
      );
    } catch (error) {
      ride?.settle(error);
      this.cache.forget(runId);
      throw error;
    }
    if (written === undefined) {
      ride?.settle(new Error('not written'));
      this.cache.forget(runId);
      return false;
    }
    ride?.settle();
    this.clock?.observe(written.now);
    written.rows.forEach((row, n) => {
      const owner = owners[n] as number;
      const mine = result.written.get(owner);
      if (mine) mine.push(row);
      else result.written.set(owner, [row]);
    });
    this.cache.remember(current, now);
    result.settle(calls);
    return true;
  }

  /**
   * Locks a group's runs in id order, one statement: per run, its time and its cached state
   * when the seq still matches (undefined: load it); a run missing from the map is gone.
   */
  private async lockGroup(tx: Sql, batches: readonly RunBatch[], relaxed: boolean): Promise<Map<string, { now: number; state: RunState | undefined }>> {
    const rows: { id: string; seq: number; now: Date }[] = await tx.query(
      `SELECT id, seq, clock_timestamp() AS now${relaxed ? `, (${RELAXED_COMMIT}) AS relaxed` : ''} FROM runs
       WHERE id IN (SELECT jsonb_array_elements_text($1::jsonb)) ORDER BY id FOR UPDATE`,
      [JSON.stringify(batches.map((batch) => batch.runId))],
    );
    const heads = new Map<string, { now: number; state: RunState | undefined }>();
    if (rows.length > 0) this.clock?.observe(millis(rows[0].now));
    for (const row of rows) heads.set(row.id, { now: millis(row.now), state: this.cache.at(row.id, row.seq) });
    for (const { runId } of batches) if (!heads.has(runId)) this.cache.forget(runId);
    return heads;
  }

  /**
   * Locks a run the cache holds and reads its seq and the time: `state` is the cached
   * state when the seq still matches, undefined when it must be loaded; null when the run is gone.
   */
  private async lockCached(tx: Sql, runId: string, relaxed: boolean): Promise<{ now: number; state: RunState | undefined } | null> {
    const rows: { seq: number; now: Date }[] = await tx.query(
      `SELECT seq, clock_timestamp() AS now${relaxed ? `, (${RELAXED_COMMIT}) AS relaxed` : ''} FROM runs WHERE id = $1 FOR UPDATE`,
      [runId],
    );
    if (rows.length === 0) {
      this.cache.forget(runId);
      return null;
    }
    this.clock?.observe(millis(rows[0].now));
    // Read after the lock: another call of this process may have moved the run on meanwhile.
    return { now: millis(rows[0].now), state: this.cache.at(runId, rows[0].seq) };
  }
}

/**
 * Several transitions of one run as one write: the last state, every outbox message in
 * order, and per timer key the last thing done to it (within a transition, as in
 * writeTransition, cancels come before schedules).
 */
function mergeTransitions(state: RunState, transitions: readonly Transition[]): Transition {
  if (transitions.length === 1) return transitions[0];
  const timers = new Map<string, { schedule: TimerRecord } | { cancel: TimerKey }>();
  for (const t of transitions) {
    for (const key of t.cancel) timers.set(timerKey(key), { cancel: key });
    for (const timer of t.schedule) timers.set(timerKey(timer), { schedule: timer });
  }
  const schedule: TimerRecord[] = [];
  const cancel: TimerKey[] = [];
  for (const op of timers.values()) {
    if ('schedule' in op) schedule.push(op.schedule);
    else cancel.push(op.cancel);
  }
  const waits = transitions.flatMap((t) => t.waits ?? []);
  return { state, outbox: transitions.flatMap((t) => t.outbox), schedule, cancel, ...(waits.length > 0 && { waits }) };
}
