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
