import { type RunState, TERMINAL_RUN_STATUSES } from '@weft/core';

/**
 * Last committed state of recently changed runs, least recently changed dropped first.
 * Safe to reuse while the run row's seq is unchanged: every write goes through
 * writeTransition under the row lock, and a changed state always comes with the next seq
 * (the core's decide increments it). RunBatchWriter reads only the seq under the lock and
 * skips loading the run and its steps when it matches.
 */
export class RunStateCache {
  private readonly states = new Map<string, RunState>();

  /** @param size runs kept; 0 keeps none. */
  constructor(private readonly size: number) {}

  has(runId: string): boolean {
    return this.states.has(runId);
  }

  /** The cached state, when it is the one with this seq. */
  at(runId: string, seq: number): RunState | undefined {
    const cached = this.states.get(runId);
    return cached !== undefined && cached.seq === seq ? cached : undefined;
  }

  forget(runId: string): void {
    this.states.delete(runId);
  }

  /** Keeps a committed state (most recent last); finished runs are not kept. */
  remember(state: RunState): void {
    this.states.delete(state.runId);
    if (this.size <= 0 || TERMINAL_RUN_STATUSES.includes(state.status)) return;
    this.states.set(state.runId, state);
    if (this.states.size > this.size) {
      const oldest = this.states.keys().next();
      if (!oldest.done) this.states.delete(oldest.value);
    }
  }
}
