/** The logger a retention pass reports to (@weft/platform's WeftLogger is one). */
export interface RetentionLog {
  info(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface BatchOutcome<K extends string> {
  /** Rows deleted by this batch, per kind. */
  deleted: Record<K, number>;
  /** A batch came back full: there may be more. */
  more: boolean;
}

/**
 * Runs `batch` until it reports no more or `stopped()`, yielding between batches, and
 * sums what each deleted (starting from `zero`).
 */
export async function pruneInBatches<K extends string>(zero: Record<K, number>, batch: () => Promise<BatchOutcome<K>>, stopped: () => boolean): Promise<Record<K, number>> {
  const total = { ...zero };
  for (;;) {
    const { deleted, more } = await batch();
    for (const key in total) total[key] += deleted[key];
    if (!more || stopped()) return total;
    // Let queued writes through (on PGlite they share the one session with us).
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

export interface RetentionPassesOptions<K extends string> {
  /** Names the pass in logs: `<name> retention pass`. */
  name: string;
  /** Pause between passes (ms). */
  intervalMs: number;
  pass(): Promise<Record<K, number>>;
  log: RetentionLog;
}

/** A retention pass now, then every `intervalMs` until `stop()`; a failed pass is logged and tried again next interval. */
export class RetentionPasses<K extends string> {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private halted = false;

  constructor(private readonly options: RetentionPassesOptions<K>) {}

  /** True once `stop()` is called: a pass under way ends after its current batch. */
  get stopped(): boolean {
    return this.halted;
  }

  start(): void {
    this.halted = false;
    this.tick(0);
  }

  async stop(): Promise<void> {
    this.halted = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private tick(delayMs: number): void {
    if (this.halted) return;
    const { name, log } = this.options;
    this.timer = setTimeout(() => {
      this.running = this.options
        .pass()
        .then(
          (deleted) => {
            if (Object.values<number>(deleted).some((n) => n > 0)) log.info(`${name} retention pass`, deleted);
          },
          (error: unknown) => log.error(`${name} retention pass failed; trying again next interval`, { error: error instanceof Error ? error.message : String(error) }),
        )
        .finally(() => this.tick(this.options.intervalMs));
    }, delayMs);
    this.timer.unref();
  }
}

/**
 * A retention use case: `execute` is one full pass (usually `inBatches`), run now and then
 * every `intervalMs` between `start()` and `stop()`.
 */
export abstract class BatchedRetention<K extends string> {
  private readonly passes: RetentionPasses<K>;

  protected constructor(options: Omit<RetentionPassesOptions<K>, 'pass'>) {
    this.passes = new RetentionPasses({ ...options, pass: () => this.execute() });
  }

  /** One full pass. Resolves with the rows deleted. */
  abstract execute(): Promise<Record<K, number>>;

  /** Prunes now, then every `intervalMs`, until `stop()`. */
  start(): void {
    this.passes.start();
  }

  stop(): Promise<void> {
    return this.passes.stop();
  }

  /** pruneInBatches, ending after the current batch once `stop()` is called. */
  protected inBatches(zero: Record<K, number>, batch: () => Promise<BatchOutcome<K>>): Promise<Record<K, number>> {
    return pruneInBatches(zero, batch, () => this.passes.stopped);
  }
}

/** One step of a walk that deletes as it goes: rows deleted, and where to go on (undefined: the pass is done). */
export type RetentionStep<C> = (after: C | undefined) => Promise<{ deleted: number; next: C | undefined }>;

export interface WalkingRetentionOptions<K extends string, C> {
  /** Names the pass in logs: `<name> retention pass`. */
  name: string;
  /** What a pass reports it deleted: `{ [key]: n }`. */
  key: K;
  /** Pause between passes (ms). */
  intervalMs: number;
  /** One bounded statement of the walk, from the start (`after` undefined) to its end. */
  step: RetentionStep<C>;
  log: RetentionLog;
  /** Retention turned off (a retention of 0: keep forever): passes delete nothing and never run. */
  off?: boolean;
}

/**
 * Retention by walking a table from its oldest rows in bounded steps, each deleting what is past
 * the retention among the rows it looks at: now, then every `intervalMs` between `start()` and
 * `stop()` (a pass under way ends after its current step).
 */
export class WalkingRetention<K extends string, C> {
  private readonly passes: RetentionPasses<K>;

  constructor(private readonly walking: WalkingRetentionOptions<K, C>) {
    this.passes = new RetentionPasses({ name: walking.name, intervalMs: walking.intervalMs, pass: () => this.execute(), log: walking.log });
  }

  /** One full pass. Resolves with the rows deleted. */
  execute(): Promise<Record<K, number>> {
    const { key, step, off } = this.walking;
    const zero = { [key]: 0 } as Record<K, number>;
    if (off) return Promise.resolve(zero);
    let after: C | undefined;
    return pruneInBatches(
      zero,
      async () => {
        const { deleted, next } = await step(after);
        after = next;
        return { deleted: { [key]: deleted } as Record<K, number>, more: next !== undefined };
      },
      () => this.passes.stopped,
    );
  }

  start(): void {
    if (!this.walking.off) this.passes.start();
  }

  stop(): Promise<void> {
    return this.passes.stop();
  }
}

/** What one statement of a walk by id reports: rows deleted, rows looked at, the last id looked at, whether any was created inside the retention. */
export interface WalkedRows {
  deleted: number;
  seen: number;
  last: string | null;
  reached: boolean | null;
}

/**
 * A walk's step from its statement's report: go on after the last row looked at, unless the
 * statement saw fewer rows than it asked for (the table's end) or a row created inside the
 * retention (ids follow creation, so every later row is newer).
 */
export function walkedStep(rows: WalkedRows, batch: number): { deleted: number; next: string | undefined } {
  const more = rows.seen === batch && rows.reached !== true;
  return { deleted: rows.deleted, next: more ? (rows.last ?? undefined) : undefined };
}
