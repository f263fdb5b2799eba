import { pruneInBatches, RetentionPasses } from '@weft/platform';
import type { SchedulerLogger } from '../ports/scheduler-logger.port';

/** Default age (database time) before a blob nothing names may be removed: WEFT_BLOB_SWEEP_GRACE. */
export const DEFAULT_BLOB_SWEEP_GRACE_MS = 24 * 60 * 60_000;
/** Default pause between sweep passes. */
export const DEFAULT_BLOB_SWEEP_INTERVAL_MS = 10 * 60_000;
/** Blobs removed per statement: small, so a pass never holds locks for long. */
export const DEFAULT_BLOB_SWEEP_BATCH = 200;

export interface BlobSweepOptions {
  /** Removes up to `batch` unnamed blobs older than `graceMs`; resolves with their ids (sweepUnnamedBlobs in @weft/db). */
  sweep(graceMs: number, batch: number): Promise<string[]>;
  /** 0 turns the sweep off. @default DEFAULT_BLOB_SWEEP_GRACE_MS */
  graceMs?: number;
  /** @default DEFAULT_BLOB_SWEEP_INTERVAL_MS */
  intervalMs?: number;
  /** @default DEFAULT_BLOB_SWEEP_BATCH */
  batch?: number;
}

/**
 * Blob garbage collection (issue 12 item 4): removes blobs no run names any more (a deleted run's,
 * or one an attempt wrote whose result was lost), in bounded batches, now and then. Runs are never
 * deleted by Weft itself; an operator deleting runs (their step_runs go with them) frees their blobs
 * at the next pass. Every scheduler replica may sweep: the batches skip each other's locked rows.
 */
export class BlobSweepUseCase {
  private readonly passes: RetentionPasses<'blobs'> | undefined;

  constructor(
    private readonly options: BlobSweepOptions,
    log: Pick<SchedulerLogger, 'info' | 'error'>,
  ) {
    const graceMs = options.graceMs ?? DEFAULT_BLOB_SWEEP_GRACE_MS;
    if (graceMs > 0) this.passes = new RetentionPasses({ name: 'blob sweep', intervalMs: options.intervalMs ?? DEFAULT_BLOB_SWEEP_INTERVAL_MS, pass: () => this.execute(), log });
  }

  /** One full pass: batches until one comes back short. Resolves with the blobs removed. */
  async execute(): Promise<{ blobs: number }> {
    const graceMs = this.options.graceMs ?? DEFAULT_BLOB_SWEEP_GRACE_MS;
    const batch = this.options.batch ?? DEFAULT_BLOB_SWEEP_BATCH;
    if (graceMs <= 0) return { blobs: 0 };
    return pruneInBatches(
      { blobs: 0 },
      async () => {
        const removed = await this.options.sweep(graceMs, batch);
        return { deleted: { blobs: removed.length }, more: removed.length >= batch };
      },
      () => this.passes?.stopped ?? false,
    );
  }

  start(): void {
    this.passes?.start();
  }

  stop(): Promise<void> {
    return this.passes?.stop() ?? Promise.resolve();
  }
}
