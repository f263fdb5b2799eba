import { BatchedRetention } from '@weft/platform';
import type { AnalyticsStore } from '../ports/analytics-store.port';
import type { AnalyticsLogger } from '../transport/analytics-events.handler';

export interface AnalyticsRetentionOptions {
  /**
   * How long applied event ids are remembered. Must outlast the events stream's max
   * age (7 days by default): an event redelivered after its id was forgotten would be counted twice.
   * @default 8 days
   */
  dedupWindowMs?: number;
  /** Aggregate hours older than this are deleted; absent: kept forever. */
  aggregatesMaxAgeMs?: number;
  /** @default 600000 (10 min) */
  intervalMs?: number;
  /** @default 1000 */
  batchSize?: number;
}

export const DEFAULT_DEDUP_WINDOW_MS = 8 * 24 * 3_600_000;
export const DEFAULT_ANALYTICS_PRUNE_INTERVAL_MS = 10 * 60_000;

/** Forgets old event ids and, optionally, old aggregate hours: small batches, on an interval, on database time. */
export class PruneAnalyticsUseCase extends BatchedRetention<'processed' | 'buckets'> {
  constructor(
    private readonly store: Pick<AnalyticsStore, 'now' | 'pruneBatch'>,
    private readonly options: AnalyticsRetentionOptions,
    log: Pick<AnalyticsLogger, 'info' | 'error'>,
  ) {
    super({ name: 'analytics', intervalMs: options.intervalMs ?? DEFAULT_ANALYTICS_PRUNE_INTERVAL_MS, log });
  }

  async execute(): Promise<{ processed: number; buckets: number }> {
    const now = await this.store.now();
    const batch = this.options.batchSize ?? 1000;
    const processedBefore = now - (this.options.dedupWindowMs ?? DEFAULT_DEDUP_WINDOW_MS);
    const bucketsBefore = this.options.aggregatesMaxAgeMs === undefined ? undefined : now - this.options.aggregatesMaxAgeMs;
    return this.inBatches({ processed: 0, buckets: 0 }, async () => {
      const { processed, buckets, more } = await this.store.pruneBatch(processedBefore, bucketsBefore, batch);
      return { deleted: { processed, buckets }, more };
    });
  }
}
