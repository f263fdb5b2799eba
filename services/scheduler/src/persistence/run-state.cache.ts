import { type RunState, TERMINAL_RUN_STATUSES } from '@weft/core';

/** Runs with at least this many steps are kept apart from the others (see RunStateCache). */
export const LARGE_RUN_STEPS = 500;

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
 */
export class RunStateCache {
  private readonly small = new Map<string, RunState>();
  private readonly large = new Map<string, RunState>();
  private largeSteps = 0;
  /** The time each cached state was decided at (RunBatchWriter: a run's time never goes backwards). */
  private readonly times = new WeakMap<RunState, number>();

  /**
   * @param size small runs kept; 0 keeps none (and no large ones either).
   * @param largeStepBudget steps of large runs kept, together.
   */
  constructor(
    private readonly size: number,
    private readonly largeStepBudget = 250_000,
  ) {}

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
    this.small.delete(runId);
    const large = this.large.get(runId);
    if (large !== undefined) {
      this.large.delete(runId);
      this.largeSteps -= large.plan.length;
    }
  }

  /** Keeps a committed state (most recent last), decided at time `at`; finished runs are not kept. */
  remember(state: RunState, at?: number): void {
    this.forget(state.runId);
    if (at !== undefined) this.times.set(state, at);
    if (this.size <= 0 || TERMINAL_RUN_STATUSES.includes(state.status)) return;
    if (state.plan.length < LARGE_RUN_STEPS) {
      this.small.set(state.runId, state);
      if (this.small.size > this.size) dropOldest(this.small);
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
}

function dropOldest(states: Map<string, RunState>): void {
  const oldest = states.keys().next();
  if (!oldest.done) states.delete(oldest.value);
}
