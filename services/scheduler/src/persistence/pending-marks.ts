/**
 * Published marks waiting for a transaction to ride in. A chain's next result usually
 * commits within milliseconds of its dispatch's PubAck: the mark goes into that
 * transaction's statement (no commit, no round trip of its own). When none comes within
 * `lingerMs`, the marks are written on their own, as before. A mark is idempotent and
 * losing one only lets the relay publish the row again once its claim lapses (JetStream
 * drops the duplicate by msgId), so the ride changes no guarantee.
 */
export class PendingMarks {
  private ids: string[] = [];
  private waiters: { resolve: () => void; reject: (error: unknown) => void }[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly lingerMs: number,
    /** Writes marks on their own (the store's relaxed UPDATE). */
    private readonly write: (ids: readonly string[]) => Promise<void>,
  ) {}

  /** Resolves once the marks are committed, in a transition's transaction or on their own. */
  add(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.ids.push(...ids);
      this.waiters.push({ resolve, reject });
      this.timer ??= setTimeout(() => this.flush(), this.lingerMs);
    });
  }

  /**
   * The marks waiting now, for one transaction to write; `settle` after it committed (or
   * failed: the marks then wait again). Undefined when there are none.
   */
  take(): { ids: readonly string[]; settle: (error?: unknown) => void } | undefined {
    if (this.ids.length === 0) return undefined;
    const ids = this.ids;
    const waiters = this.waiters;
    this.ids = [];
    this.waiters = [];
    this.clearTimer();
    return {
      ids,
      settle: (error?: unknown) => {
        if (error === undefined) {
          for (const w of waiters) w.resolve();
          return;
        }
        // Not committed: they wait for the next ride, or go on their own after the linger.
        this.ids.push(...ids);
        this.waiters.push(...waiters);
        this.timer ??= setTimeout(() => this.flush(), this.lingerMs);
      },
    };
  }

  /** Writes whatever waits, on its own; close() calls it. */
  flush(): Promise<void> {
    this.clearTimer();
    if (this.ids.length === 0) return Promise.resolve();
    const ids = this.ids;
    const waiters = this.waiters;
    this.ids = [];
    this.waiters = [];
    return this.write(ids).then(
      () => waiters.forEach((w) => w.resolve()),
      (error: unknown) => waiters.forEach((w) => w.reject(error)),
    );
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
