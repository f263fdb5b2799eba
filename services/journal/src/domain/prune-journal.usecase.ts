import type { JournalStore } from '../ports/journal-store.port';
import type { JournalLogger } from '../transport/journal-events.handler';

export interface RetentionOptions {
  /** Entries and checkpoints whose event is older than this are deleted (ms). */
  maxAgeMs: number;
  /** Pause between prune passes (ms). @default 600000 (10 min) */
  intervalMs?: number;
  /** Rows deleted per statement; small, so writers never wait long. @default 1000 */
  batchSize?: number;
}

export const DEFAULT_PRUNE_INTERVAL_MS = 10 * 60_000;
export const DEFAULT_PRUNE_BATCH = 1000;

/**
 * Retention: deletes entries and checkpoints older than `maxAgeMs`, in small
 * batches, yielding between them, on an interval. Age is measured on database time.
 */
export class PruneJournalUseCase {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;

  constructor(
    private readonly store: Pick<JournalStore, 'now' | 'pruneBatch'>,
    private readonly options: RetentionOptions,
    private readonly log: Pick<JournalLogger, 'info' | 'error'>,
  ) {}

  /** One full pass: batches until a batch comes back short. Resolves with the rows deleted. */
  async execute(): Promise<{ entries: number; checkpoints: number }> {
    const batch = this.options.batchSize ?? DEFAULT_PRUNE_BATCH;
    const before = (await this.store.now()) - this.options.maxAgeMs;
    const total = { entries: 0, checkpoints: 0 };
    for (;;) {
      const deleted = await this.store.pruneBatch(before, batch);
      total.entries += deleted.entries;
      total.checkpoints += deleted.checkpoints;
      if ((deleted.entries < batch && deleted.checkpoints < batch) || this.stopped) return total;
      // Let queued writes through (on PGlite they share the one session with us).
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** Prunes now, then every `intervalMs`, until `stop()`. */
  start(): void {
    this.stopped = false;
    this.tick(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private tick(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.execute()
        .then(
          (deleted) => {
            if (deleted.entries + deleted.checkpoints > 0) this.log.info('journal retention pass', deleted);
          },
          (error: unknown) => this.log.error('journal retention pass failed; trying again next interval', { error: error instanceof Error ? error.message : String(error) }),
        )
        .finally(() => this.tick(this.options.intervalMs ?? DEFAULT_PRUNE_INTERVAL_MS));
    }, delayMs);
    this.timer.unref();
  }
}
