import { type RunCancel, type StepDispatch } from '@weft/contracts';

// What lets a dispatch run on this worker: a free slot, and its attempt not canceled before it arrived.

/**
 * A counting semaphore shared across runs: when a slot frees, the waiters' runs take turns
 * (round-robin by run, first come first served within a run), so a run with many dispatches
 * waiting here does not put them all ahead of another run's one (issue 15, fair share).
 * Waiters are told `false` once it closes.
 */
export class Slots {
  /** Waiters per run; the map's insertion order is the turn order (a run that was served goes to the back). */
  private readonly waiters = new Map<string, ((acquired: boolean) => void)[]>();
  private closed = false;

  constructor(private free: number) {}

  acquire(run = ''): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    if (this.free > 0) {
      this.free -= 1;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const queue = this.waiters.get(run);
      if (queue) queue.push(resolve);
      else this.waiters.set(run, [resolve]);
    });
  }

  release(): void {
    const next = this.waiters.entries().next();
    if (next.done === true) {
      this.free += 1;
      return;
    }
    const [run, queue] = next.value;
    const waiter = queue.shift() as (acquired: boolean) => void;
    // Its run goes to the back of the turn order, or leaves it once nothing of it waits.
    this.waiters.delete(run);
    if (queue.length > 0) this.waiters.set(run, queue);
    waiter(true);
  }

  /** Dispatches waiting for a slot. */
  waiting(): number {
    let count = 0;
    for (const queue of this.waiters.values()) count += queue.length;
    return count;
  }

  close(): void {
    this.closed = true;
    const queues = [...this.waiters.values()];
    this.waiters.clear();
    for (const queue of queues) for (const waiter of queue) waiter(false);
  }
}

/**
 * Attempts named by cancel broadcasts (run, step and attempt), remembered for a while.
 * Only exact attempts: a run-level cancel is not remembered, because `run.retry` may
 * dispatch the same steps again (with new attempt numbers) soon after.
 */
export class AbortedAttempts {
  private static readonly TTL_MS = 10 * 60_000;
  private static readonly MAX = 10_000;
  private readonly until = new Map<string, number>();

  add(cancel: RunCancel): void {
    if (cancel.stepId === undefined || cancel.attempt === undefined) return;
    const now = Date.now();
    this.until.set(`${cancel.runId}\u0000${cancel.stepId}\u0000${cancel.attempt}`, now + AbortedAttempts.TTL_MS);
    // Insertion order is age order: drop the oldest beyond the cap, and what has expired.
    for (const [key, expiry] of this.until) {
      if (this.until.size <= AbortedAttempts.MAX && expiry > now) break;
      this.until.delete(key);
    }
  }

  has(dispatch: StepDispatch): boolean {
    const expiry = this.until.get(`${dispatch.runId}\u0000${dispatch.stepId}\u0000${dispatch.attempt}`);
    return expiry !== undefined && expiry > Date.now();
  }
}
