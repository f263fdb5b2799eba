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
import { type GroupWritten, writeGroupAlone } from './group-transition.writer';
import { handOver, writeTransition, writeTransitionAlone } from './transition.writer';
import { writeWaitRows } from './wait-rows.writer';

/** What RunBatchWriter wrote, counted since it was built (diagnostics: SqlRunStore.writeStats). */
export interface BatchWriteStats {
  /** Lone runs' batches written in one statement (writeTransitionAlone). */
  loneStatements: number;
  /** Group statements (writeGroupAlone) and the runs' batches they carried. */
  groupStatements: number;
  groupStatementRuns: number;
  /** Transactions and the runs' batches they carried. */
  transactions: number;
  transactionRuns: number;
  /** Batches sent to the transaction because their run's state was not cached (a reload). */
  uncached: number;
}

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

  /** The outbox rows a write inserted (in outbox order), each to the call at `owners[n]`. */
  own(rows: readonly OutboxRecord[], owners: readonly number[]): void {
    rows.forEach((row, n) => {
      const owner = owners[n] as number;
      const mine = this.written.get(owner);
      if (mine) mine.push(row);
      else this.written.set(owner, [row]);
    });
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
  /** writeCached's statements, prepared once per connection and shape (namedStatements). */
  private readonly alone: Sql;
  readonly stats: BatchWriteStats = { loneStatements: 0, groupStatements: 0, groupStatementRuns: 0, transactions: 0, transactionRuns: 0, uncached: 0 };

  constructor(
    private readonly dataSource: DataSource,
    private readonly cache: RunStateCache,
    /** How long outbox rows inserted claimed stay claimed (ms). */
    private readonly outboxClaimMs: number,
    /** Published marks that ride in the batch's statement when it writes (SqlRunStoreOptions.markLingerMs). */
    private readonly marks?: PendingMarks,
    /**
     * The database's time without a query: with it, the runs whose state is cached are
     * written in one statement (writeCached). Without, every batch takes the transaction.
     */
    private readonly clock?: DbClock,
  ) {
    const named = namedStatements(dataSource);
    this.alone = { query: <T>(sql: string, params?: unknown[]) => named(sql, params) as Promise<T> };
  }

  /**
   * Settles every call (a throwing decide fails only its own call). With a recent clock
   * reading and every run's state cached (and every decision fit for it), the batches are
   * decided on the cached states and written in ONE autocommit statement (writeCached): a lone
   * run's by writeTransitionAlone, several runs' by writeGroupAlone. Otherwise all of them, and
   * the runs another writer moved on meanwhile, take the transaction: several runs' batches in
   * one (group commit): their rows are locked in id
   * order in one statement (replicas doing the same cannot deadlock), each batch is decided
   * and written as `commit` does, and one COMMIT (one WAL flush) covers them all. When the
   * group's transaction fails, each batch is committed on its own, so one run's failure
   * (a seq conflict, a value the database refuses) fails only that run's calls.
   */
  async commitGroup(batches: readonly RunBatch[]): Promise<void> {
    let rest = batches;
    if (this.clock !== undefined) {
      try {
        rest = await this.writeCached(batches);
      } catch (error) {
        // Only a lone batch's statement throws here (as it did before groups went in one statement).
        for (const call of (batches[0] as RunBatch).calls) call.reject(error);
        return;
      }
    }
    if (rest.length > 1) {
      try {
        await this.write(rest, true);
        return;
      } catch {
        // One batch at a time below: each succeeds or fails alone.
      }
    }
    for (const batch of rest) {
      try {
        await this.write([batch], false);
      } catch (error) {
        for (const call of batch.calls) call.reject(error);
      }
    }
  }

  /** Writes `batches` in one transaction and settles their calls; throws (settling nothing) when it fails. */
  private async write(batches: readonly RunBatch[], grouped: boolean): Promise<void> {
    const results = batches.map(() => new BatchResult());
    this.stats.transactions += 1;
    this.stats.transactionRuns += batches.length;
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
          result.own(rows, owners);
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
   * The batches of runs whose state is cached, in one round trip instead of four or more
   * (BEGIN, lock, a write per run, COMMIT): each batch's calls are decided on its cached state
   * at the database's estimated time (DbClock, never before the time the run's state was last
   * decided at), and the merged writes go as one autocommit statement, each run's guarded by
   * its cached seq (writeTransitionAlone for one run, writeGroupAlone for several). Resolves
   * with the batches left for the transaction, having written and settled nothing of them:
   * every batch when one of them is not cached, or its decision changes nothing or writes waits
   * (a second statement), or (in a group) its run's spec or plan changed or it is canceled; and
   * the runs that were not at their cached seq (another writer moved them on: the cache forgets
   * them and the transaction reloads them and decides again). A group statement that fails
   * leaves its batches to the transaction; a lone batch's failure is thrown.
   */
  private async writeCached(batches: readonly RunBatch[]): Promise<RunBatch[]> {
    const estimate = this.clock?.now();
    // All or none: a statement for some runs and then a transaction for the others would hold the
    // group's turn for both in a row (under overload, when the cache misses, most groups).
    const uncached = batches.filter(({ runId }) => this.cache.latest(runId) === undefined).length;
    this.stats.uncached += uncached;
    if (estimate === undefined || uncached > 0) return [...batches];
    const members: CachedDecision[] = [];
    for (const batch of batches) {
      const decided = this.decideCached(batch, estimate);
      if (decided === undefined || (batches.length > 1 && !groupable(decided))) return [...batches];
      members.push(decided);
    }
    if (members.length === 1) return (await this.writeOne(members[0] as CachedDecision)) ? [] : [...batches];
    return this.writeMany(members);
  }

  /** A batch's calls decided on its run's cached state; undefined when the transaction must do it. */
  private decideCached(batch: RunBatch, estimate: number): CachedDecision | undefined {
    const loaded = this.cache.latest(batch.runId);
    if (loaded === undefined) return undefined;
    const now = Math.max(estimate, this.cache.timeOf(batch.runId) ?? estimate);
    const result = new BatchResult();
    const { current, transitions, owners } = result.decide(batch.calls, loaded, now);
    // Nothing to write proves nothing about the cached seq; waits take a statement of their own.
    if (transitions.length === 0) return undefined;
    const merged = mergeTransitions(current, transitions);
    if (merged.waits !== undefined) return undefined;
    return { batch, result, loaded, current, merged, owners, now };
  }

  /** One run's decision as one statement (writeTransitionAlone); false when the run was not at the cached seq. */
  private async writeOne(decided: CachedDecision): Promise<boolean> {
    const { batch, result, loaded, current, merged, owners, now } = decided;
    const { runId, calls } = batch;
    const ride = this.marks?.take();
    this.stats.loneStatements += 1;
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
    result.own(written.rows, owners);
    this.cache.remember(current, now);
    result.settle(calls);
    return true;
  }

  /**
   * Several runs' decisions as one statement (writeGroupAlone); resolves with the batches it
   * did not write (their runs moved on, or the statement failed: the cache forgets them).
   */
  private async writeMany(group: readonly CachedDecision[]): Promise<RunBatch[]> {
    const rest: RunBatch[] = [];
    const ride = this.marks?.take();
    this.stats.groupStatements += 1;
    this.stats.groupStatementRuns += group.length;
    let written: GroupWritten;
    try {
      written = await writeGroupAlone(
        this.alone,
        group.map(({ batch, loaded, current, merged, owners }) => ({
          runId: batch.runId,
          transition: merged,
          steps: changedSteps(loaded.steps, current.steps),
          loaded,
          claimed: (n: number) => batch.calls[owners[n] as number]?.claimOutbox !== undefined,
        })),
        { claimMs: this.outboxClaimMs, ...(ride && { marks: ride.ids }) },
        group.every(({ batch }) => batch.calls.every((call) => call.relaxed)),
      );
    } catch {
      ride?.settle(new Error('not written'));
      for (const { batch } of group) {
        this.cache.forget(batch.runId);
        rest.push(batch);
      }
      return rest;
    }
    if (written.written.size === 0) ride?.settle(new Error('not written'));
    else ride?.settle();
    this.clock?.observe(written.now);
    for (const { batch, result, current, owners, now } of group) {
      const rows = written.written.get(batch.runId);
      if (rows === undefined) {
        this.cache.forget(batch.runId);
        rest.push(batch);
        continue;
      }
      result.own(rows, owners);
      this.cache.remember(current, now);
      result.settle(batch.calls);
    }
    return rest;
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

/** A batch decided on its run's cached state, not written yet (writeCached). */
interface CachedDecision {
  batch: RunBatch;
  result: BatchResult;
  loaded: RunState;
  current: RunState;
  merged: Transition;
  owners: number[];
  /** The time it was decided at. */
  now: number;
}

/**
 * Whether a decision can go in a group statement: a new spec or plan is rewritten by
 * writeTransition's statement only, and a canceled run's steps are written as writeTransition
 * chooses (a big run's cancel writes few rows). Both rare: the group takes the transaction.
 */
function groupable({ current, loaded }: CachedDecision): boolean {
  return current.spec === loaded.spec && current.plan === loaded.plan && current.status !== 'canceled';
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
