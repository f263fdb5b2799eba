import { type RunCancel, type StepDispatch } from '@weft/contracts';

// What lets a dispatch run on this worker: a free slot, and its attempt not canceled before it arrived.

/** A counting semaphore whose waiters are told `false` once it closes. */
export class Slots {
  private readonly waiters: ((acquired: boolean) => void)[] = [];
  private closed = false;

  constructor(private free: number) {}

  acquire(): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    if (this.free > 0) {
      this.free -= 1;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next(true);
    else this.free += 1;
  }

  close(): void {
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) waiter(false);
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
