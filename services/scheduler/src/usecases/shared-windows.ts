import { DEFAULT_DISPATCH_WINDOW, DEFAULT_SHARED_WINDOW, type WindowShare } from '@weft/core';

/** How long a run counts as active after this scheduler last decided for it (1-2 s: two generations of half). */
export const ACTIVE_RUN_MEMORY_MS = 2_000;

/**
 * How long a finished run still counts as traffic beside the runs that were active before it
 * finished: small runs that come and go (10 a second, each done in ~40 ms) leave gaps between
 * them, and a big run that took its full window back in each gap would have 64 steps ahead of the
 * next small run again. A run that starts after the end does not count it (one big run after
 * another keeps its full window).
 */
export const ENDED_RUN_MEMORY_MS = 250;

/**
 * The scheduler's fair share of the executors, the broker and the database between runs
 * (issue 15, W6; docs/flow-control.md#sharing-the-window): a run whose workflow sets no
 * `maxStepsInFlight` has the default window (64) while it is the only run this scheduler decides
 * for, and `shared` (WEFT_SHARED_WINDOW, default 16) while another run was decided in the last
 * 1-2 s and has not finished, or finished in the last 250 ms after this run was first seen. A 50,000-step run alone still gets its full window; beside small
 * runs it keeps 16 steps in flight, not 64, and their hops stop queueing behind its work in every
 * process. Each replica counts the runs it decides for (results reach every replica), and
 * nothing of it is stored: a decision asks once, at its start.
 *
 * Runs are remembered in two generations of half the memory each, so asking is O(1): a run
 * decided in the current or the previous generation is active. Each keeps the time this
 * scheduler first saw it (the ended run's rule).
 */
export class SharedWindows implements WindowShare {
  /** Run id -> when first seen, for the runs decided in this generation and in the one before. */
  private current = new Map<string, number>();
  private previous = new Map<string, number>();
  private rotatedAt: number;
  /** The last run a decision finished, and when: it counts for others a while longer (ENDED_RUN_MEMORY_MS). */
  private lastEnded: { runId: string; at: number } | undefined;

  constructor(
    private readonly shared = DEFAULT_SHARED_WINDOW,
    private readonly memoryMs = ACTIVE_RUN_MEMORY_MS,
    private readonly now: () => number = Date.now,
  ) {
    this.rotatedAt = now();
  }

  windowOf(runId: string): number {
    const window = this.peek(runId);
    if (!this.current.has(runId)) this.current.set(runId, this.previous.get(runId) ?? this.now());
    return window;
  }

  /** The window a decision of the run would get now, without counting the run as active (the "why" view). */
  peek(runId: string): number {
    this.rotate();
    return this.othersThan(runId) ? Math.min(this.shared, DEFAULT_DISPATCH_WINDOW) : DEFAULT_DISPATCH_WINDOW;
  }

  ended(runId: string): void {
    this.current.delete(runId);
    this.previous.delete(runId);
    this.lastEnded = { runId, at: this.now() };
  }

  /** Runs counted as active now. */
  get active(): number {
    this.rotate();
    let n = this.current.size;
    for (const runId of this.previous.keys()) if (!this.current.has(runId)) n++;
    return n;
  }

  private othersThan(runId: string): boolean {
    if (this.current.size > (this.current.has(runId) ? 1 : 0) || this.previous.size > (this.previous.has(runId) ? 1 : 0)) return true;
    const ended = this.lastEnded;
    if (ended === undefined || ended.runId === runId || this.now() - ended.at >= ENDED_RUN_MEMORY_MS) return false;
    const seen = this.current.get(runId) ?? this.previous.get(runId);
    return seen !== undefined && seen <= ended.at;
  }

  private rotate(): void {
    const now = this.now();
    const elapsed = now - this.rotatedAt;
    if (elapsed < this.memoryMs / 2) return;
    // A whole memory without a rotation: what the current generation holds is older than it.
    this.previous = elapsed >= this.memoryMs ? new Map() : this.current;
    this.current = new Map();
    this.rotatedAt = now;
  }
}
