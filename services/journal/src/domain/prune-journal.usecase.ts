import { BatchedRetention } from '@weft/platform';
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
export class PruneJournalUseCase extends BatchedRetention<'entries' | 'checkpoints'> {
  constructor(
    private readonly store: Pick<JournalStore, 'now' | 'pruneBatch'>,
    private readonly options: RetentionOptions,
    log: Pick<JournalLogger, 'info' | 'error'>,
  ) {
    super({ name: 'journal', intervalMs: options.intervalMs ?? DEFAULT_PRUNE_INTERVAL_MS, log });
  }

  /** One full pass: batches until a batch comes back short. Resolves with the rows deleted. */
  async execute(): Promise<{ entries: number; checkpoints: number }> {
    const batch = this.options.batchSize ?? DEFAULT_PRUNE_BATCH;
    const before = (await this.store.now()) - this.options.maxAgeMs;
    return this.inBatches({ entries: 0, checkpoints: 0 }, async () => {
      const deleted = await this.store.pruneBatch(before, batch);
      return { deleted, more: deleted.entries >= batch || deleted.checkpoints >= batch };
    });
  }
}
