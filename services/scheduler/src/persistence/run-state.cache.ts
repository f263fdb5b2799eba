import { type RunState, TERMINAL_RUN_STATUSES } from '@weft/core';

/** Runs with at least this many steps are kept apart from the others (see RunStateCache). */
export const LARGE_RUN_STEPS = 500;

/** Most small runs the cache grows to (RunStateCache, `maxSize`). */
export const STATE_CACHE_MAX_RUNS = 20_000;

/** Steps of small runs together above which the cache no longer grows past `size` (RunStateCache). */
export const STATE_CACHE_GROWN_STEPS = 250_000;

/**
 * Last committed state of recently changed runs, least recently changed dropped first.
 * Safe to reuse while the run row's seq is unchanged: every write goes through
 * writeTransition under the row lock, and a changed state always comes with the next seq
 * (the core's decide increments it). RunBatchWriter reads only the seq under the lock and
 * skips loading the run and its steps when it matches.
 *
 * Large runs (LARGE_RUN_STEPS or more) have a budget of their own, in steps: a missed
 * large run costs a reload of every step row, and thousands of small runs changing
 * between two of its events would otherwise push it out every time (a 20,000-step run
 * beside W4-style traffic fell to 30 steps/s, reloading 20,000 rows per event).
 *
 * The small runs' bound follows load. When more runs are in flight than it holds, and each is
 * changed in turn (W4 past capacity: every run waits its turn behind the others), least
 * recently changed is exactly the run changed next: every update missed and reloaded its run in
 * a transaction (~10 round trips a step instead of ~1), the system fell further behind and never
 * caught up. So the cache remembers the ids of small runs it dropped for room and not finished
 * since (at most `maxSize`), and each time one of them is kept again (it was changed again:
 * reloaded) it holds one run more, up to `maxSize` runs, and past `size` only while the small
 * runs' steps together are at most `grownSteps`. Runs that are never changed again (waiting
 * ones) do not make it grow. It does not shrink: it holds at most the runs still in flight, and
 * finished runs are dropped.
 */
export class RunStateCache {
  private readonly small = new Map<string, RunState>();
  private readonly large = new Map<string, RunState>();
  private largeSteps = 0;
  private smallSteps = 0;
  /** How many small runs it holds now: `size`, grown by runs dropped and changed again. */
  private limit: number;
  /** Small runs dropped for room and not finished or forgotten since (oldest first, at most `maxSize`). */
  private readonly dropped = new Set<string>();
  /** The time each cached state was decided at (RunBatchWriter: a run's time never goes backwards). */
  private readonly times = new WeakMap<RunState, number>();

  /**
   * @param size small runs kept; 0 keeps none (and no large ones either).
   * @param largeStepBudget steps of large runs kept, together.
   * @param maxSize small runs it may grow to, when runs it dropped are changed again.
   * @param grownSteps past `size`, steps of small runs kept together.
   */
  constructor(
    private readonly size: number,
    private readonly largeStepBudget = 250_000,
    private readonly maxSize = Math.max(size, STATE_CACHE_MAX_RUNS),
    private readonly grownSteps = STATE_CACHE_GROWN_STEPS,
  ) {
    this.limit = size;
  }

  /** How many small runs it holds at most now (`size`, or more after it grew). */
  get capacity(): number {
    return this.limit;
  }

  has(runId: string): boolean {
    return this.small.has(runId) || this.large.has(runId);
  }

  /** The cached state, when it is the one with this seq. */
  at(runId: string, seq: number): RunState | undefined {
    const cached = this.small.get(runId) ?? this.large.get(runId);
    return cached !== undefined && cached.seq === seq ? cached : undefined;
  }

  /** The cached state, whatever its seq. */
  latest(runId: string): RunState | undefined {
    return this.small.get(runId) ?? this.large.get(runId);
  }

  /** The time the cached state of the run was decided at, when known. */
  timeOf(runId: string): number | undefined {
    const cached = this.latest(runId);
    return cached === undefined ? undefined : this.times.get(cached);
  }

  forget(runId: string): void {
    this.dropped.delete(runId);
    const small = this.small.get(runId);
    if (small !== undefined) {
      this.small.delete(runId);
      this.smallSteps -= small.plan.length;
    }
    const large = this.large.get(runId);
    if (large !== undefined) {
      this.large.delete(runId);
      this.largeSteps -= large.plan.length;
    }
  }

  /** Keeps a committed state (most recent last), decided at time `at`; finished runs are not kept. */
  remember(state: RunState, at?: number): void {
    const again = this.dropped.has(state.runId);
    this.forget(state.runId);
    if (at !== undefined) this.times.set(state, at);
    if (this.size <= 0 || TERMINAL_RUN_STATUSES.includes(state.status)) return;
    if (state.plan.length < LARGE_RUN_STEPS) {
      // Dropped for room and changed again: more runs are in flight than it holds.
      if (again && this.limit < this.maxSize && this.smallSteps + state.plan.length <= this.grownSteps) this.limit += 1;
      this.small.set(state.runId, state);
      this.smallSteps += state.plan.length;
      while (this.small.size > this.limit || (this.small.size > this.size && this.smallSteps > this.grownSteps)) this.dropOldestSmall();
      return;
    }
    if (state.plan.length > this.largeStepBudget) return;
    this.large.set(state.runId, state);
    this.largeSteps += state.plan.length;
    while (this.largeSteps > this.largeStepBudget) {
      const oldest = this.large.entries().next();
      if (oldest.done) break;
      this.large.delete(oldest.value[0]);
      this.largeSteps -= oldest.value[1].plan.length;
    }
  }

  private dropOldestSmall(): void {
    const oldest = this.small.entries().next();
    if (oldest.done) return;
    const [runId, state] = oldest.value;
    this.small.delete(runId);
    this.smallSteps -= state.plan.length;
    this.dropped.add(runId);
    if (this.dropped.size > this.maxSize) this.dropped.delete(this.dropped.values().next().value as string);
  }
}

