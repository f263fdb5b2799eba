/** How long a clock reading counts towards the estimate (ms): two windows of this are kept. */
const WINDOW_MS = 5_000;

/**
 * The database's time (`clock_timestamp()`) estimated without a query, from the readings
 * statements of this store returned: reading `db` arrived at local monotonic time `t`, so
 * the offset `db - t` is at most the true one (the reading was taken before it arrived).
 * The estimate is the local time plus the largest such offset of the last 5-10 s: never
 * ahead of the database's clock, and never behind a reading this store already received
 * (a due timer's `fire_at` <= the scan's `now` <= the estimate of any later decision).
 * Undefined when no reading is that recent (the caller then reads the time under the lock).
 */
export class DbClock {
  private current: { offset: number; since: number } | undefined;
  private previous: { offset: number; since: number } | undefined;

  constructor(private readonly local: () => number = () => performance.now()) {}

  /** A `clock_timestamp()` reading (epoch ms), just received. */
  observe(db: number): void {
    const t = this.local();
    const offset = db - t;
    if (this.current === undefined || t - this.current.since >= WINDOW_MS) {
      this.previous = this.current;
      this.current = { offset, since: t };
    } else if (offset > this.current.offset) this.current.offset = offset;
  }

  /** The database's time now (epoch ms), or undefined without a recent reading. */
  now(): number | undefined {
    const t = this.local();
    const windows = [this.current, this.previous].filter((w) => w !== undefined && t - w.since < 2 * WINDOW_MS) as { offset: number }[];
    if (windows.length === 0) return undefined;
    return Math.floor(t + Math.max(...windows.map((w) => w.offset)));
  }
}
