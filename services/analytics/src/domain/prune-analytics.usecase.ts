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
export class PruneAnalyticsUseCase {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;

  constructor(
    private readonly store: Pick<AnalyticsStore, 'now' | 'pruneBatch'>,
    private readonly options: AnalyticsRetentionOptions,
    private readonly log: Pick<AnalyticsLogger, 'info' | 'error'>,
  ) {}

  async execute(): Promise<{ processed: number; buckets: number }> {
    const now = await this.store.now();
    const batch = this.options.batchSize ?? 1000;
    const processedBefore = now - (this.options.dedupWindowMs ?? DEFAULT_DEDUP_WINDOW_MS);
    const bucketsBefore = this.options.aggregatesMaxAgeMs === undefined ? undefined : now - this.options.aggregatesMaxAgeMs;
    const total = { processed: 0, buckets: 0 };
    for (;;) {
      const deleted = await this.store.pruneBatch(processedBefore, bucketsBefore, batch);
      total.processed += deleted.processed;
      total.buckets += deleted.buckets;
      if (!deleted.more || this.stopped) return total;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

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
            if (deleted.processed + deleted.buckets > 0) this.log.info('analytics retention pass', deleted);
          },
          (error: unknown) => this.log.error('analytics retention pass failed; trying again next interval', { error: error instanceof Error ? error.message : String(error) }),
        )
        .finally(() => this.tick(this.options.intervalMs ?? DEFAULT_ANALYTICS_PRUNE_INTERVAL_MS));
    }, delayMs);
    this.timer.unref();
  }
}
