import { changedSteps, type RunState } from '@weft/core';
import { withTransaction } from '@weft/db';
import type { DataSource } from 'typeorm';
import { type OutboxRecord, type TimerKey, type TimerRecord, type Transition, timerKey } from '../ports/run-store.port';
import { millis } from './run-state.mapper';
import { loadRun, RELAXED_COMMIT, type Sql } from './run-sql.util';
import type { RunStateCache } from './run-state.cache';
import type { PendingUpdate } from './run-update.batcher';
import type { PendingMarks } from './pending-marks';
import { handOver, writeTransition } from './transition.writer';
import { writeWaitRows } from './wait-rows.writer';

/**
 * Commits one batch of a run's updates (from RunUpdateBatcher) in one transaction: lock the
 * run (its cached state when the seq still matches, else loaded), call each update's
 * `decide` in turn on the state the previous one left, write the merged transition, commit;
 * then hand each call's outbox rows to its `claimOutbox` (publish after commit) and settle it.
 */
export class RunBatchWriter {
  constructor(
    private readonly dataSource: DataSource,
    private readonly cache: RunStateCache,
    /** How long outbox rows inserted claimed stay claimed (ms). */
    private readonly outboxClaimMs: number,
    /** Published marks that ride in the batch's statement when it writes (SqlRunStoreOptions.markLingerMs). */
    private readonly marks?: PendingMarks,
  ) {}

  /** Settles every call (a throwing decide fails only its own call). */
  async commit(runId: string, calls: readonly PendingUpdate[]): Promise<void> {
    const outcomes: ({ state: RunState | undefined } | { error: unknown })[] = [];
    /** The outbox rows each call inserted (claimed or not), by call index. */
    const written = new Map<number, OutboxRecord[]>();
    let committed: RunState | undefined;
    let ride: ReturnType<PendingMarks['take']>;
    try {
      // A batch of relaxed changes only (heartbeats) commits without waiting for the WAL flush.
      const relaxed = calls.every((call) => call.relaxed);
      await withTransaction(this.dataSource, async (tx) => {
        outcomes.length = 0;
        written.clear();
        const head = this.cache.has(runId) ? await this.lockCached(tx, runId, relaxed) : undefined;
        let loaded: RunState;
        let now: number;
        if (head !== undefined) {
          if (head === null) return calls.forEach(() => outcomes.push({ state: undefined }));
          now = head.now;
          const state = head.state ?? (await loadRun(tx, runId, false))?.state;
          if (state === undefined) return calls.forEach(() => outcomes.push({ state: undefined }));
          loaded = state;
        } else {
          const fresh = await loadRun(tx, runId, true, relaxed);
          if (fresh === undefined) return calls.forEach(() => outcomes.push({ state: undefined }));
          ({ state: loaded, now } = fresh);
        }
        let current = loaded;
        const transitions: Transition[] = [];
        /** Per outbox message of the merged write, the index of the call it belongs to. */
        const owners: number[] = [];
        for (const [index, call] of calls.entries()) {
          let transition: Transition | undefined;
          try {
            transition = call.decide(current, now);
          } catch (error) {
            outcomes.push({ error });
            continue;
          }
          if (transition) {
            transitions.push(transition);
            for (let i = 0; i < transition.outbox.length; i++) owners.push(index);
            current = transition.state;
          }
          outcomes.push({ state: current });
        }
        committed = current;
        if (transitions.length === 0) return;
        // The core returns new objects for the steps it changed and shares the rest (O(changed), not O(steps)).
        const changed = changedSteps(loaded.steps, current.steps);
        const merged = mergeTransitions(current, transitions);
        ride = this.marks?.take();
        const rows = await writeTransition(tx, runId, merged, changed, loaded, {
          claimMs: this.outboxClaimMs,
          claimed: (i) => calls[owners[i]].claimOutbox !== undefined,
          ...(ride && { marks: ride.ids }),
        });
        if (merged.waits !== undefined) await writeWaitRows(tx, current, merged.waits);
        rows.forEach((row, i) => {
          const mine = written.get(owners[i]);
          if (mine) mine.push(row);
          else written.set(owners[i], [row]);
        });
      });
    } catch (error) {
      ride?.settle(error);
      this.cache.forget(runId);
      for (const call of calls) call.reject(error);
      return;
    }
    ride?.settle();
    if (committed) this.cache.remember(committed);
    // Committed: rows inserted claimed go to their callers (in commit order), then the calls resolve.
    calls.forEach((call, i) => handOver(written.get(i) ?? [], call.claimOutbox));
    calls.forEach((call, i) => {
      const outcome = outcomes[i];
      if (outcome === undefined) call.resolve(undefined);
      else if ('error' in outcome) call.reject(outcome.error);
      else call.resolve(outcome.state);
    });
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
