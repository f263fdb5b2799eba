/**
 * Publishes of one turn of the event loop, sent in at most two socket writes (issue 15: every
 * socket write costs the writing process, and wakes nats-server, ~0.5 ms of CPU on a busy 2-core
 * machine). nats.js writes its outbound buffer once per microtask turn, so publishes a few promise
 * turns apart went out in writes of their own: an executor that got ten dispatches in one read
 * published their ten results in ten writes.
 *
 * The first publish of a turn, and any made in the same synchronous stretch (before nats.js's
 * flush), go at once as before: a lone publish (a chain's next dispatch, its result) waits for
 * nothing. Publishes made later in the same turn are queued and sent together, in the order they
 * were made, on the loop's check phase (setImmediate): what is left of the turn, not a timer.
 */
export class CoalescedWrites {
  private queued: (() => void)[] = [];
  /** Set from the turn's first publish until its setImmediate. */
  private turn: NodeJS.Immediate | undefined;
  /** Publishes go straight to nats.js until its flush of the turn's first publish (a microtask). */
  private direct = false;

  constructor(
    /** false: every publish is sent at once (the behaviour before). */
    private readonly enabled: boolean,
    /** Runs after publishes were handed to nats.js (the held acks ride the same write). */
    private readonly afterSend: () => void,
  ) {}

  /** Runs `send` at once or with the turn's later publishes; settles as `send` does. */
  run<T>(send: () => Promise<T>): Promise<T> {
    if (!this.enabled) return this.now(send);
    if (this.turn === undefined) {
      this.turn = setImmediate(() => this.flush());
      this.direct = true;
      const sent = this.now(send);
      // Queued after nats.js's own flush microtask: publishes before it share its write.
      queueMicrotask(() => (this.direct = false));
      return sent;
    }
    if (this.direct) return this.now(send);
    return new Promise<T>((resolve, reject) => {
      this.queued.push(() => {
        try {
          send().then(resolve, reject);
        } catch (error) {
          reject(error);
        }
      });
    });
  }

  /** Sends everything queued now, and ends the turn. */
  flush(): void {
    if (this.turn !== undefined) {
      clearImmediate(this.turn);
      this.turn = undefined;
    }
    this.direct = false;
    if (this.queued.length === 0) return;
    const queued = this.queued;
    this.queued = [];
    for (const send of queued) send();
    this.afterSend();
  }

  /** Publishes waiting for the end of the turn (specs). */
  get size(): number {
    return this.queued.length;
  }

  private now<T>(send: () => Promise<T>): Promise<T> {
    const sent = send();
    this.afterSend();
    return sent;
  }
}
