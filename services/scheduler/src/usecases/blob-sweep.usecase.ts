import { pruneInBatches, RetentionPasses } from '@weft/db';
import type { SchedulerLogger } from '../ports/scheduler-logger.port';

/** Default age (database time) before a blob nothing names may be removed: WEFT_BLOB_SWEEP_GRACE. */
export const DEFAULT_BLOB_SWEEP_GRACE_MS = 24 * 60 * 60_000;
/** Default pause between sweep passes. */
export const DEFAULT_BLOB_SWEEP_INTERVAL_MS = 10 * 60_000;
/** Blobs looked at per step (two statements): small, so no statement runs long. */
export const DEFAULT_BLOB_SWEEP_BATCH = 200;

/** Where a pass has got to (opaque to the use case). */
export interface SweepCursor {
  createdAt: string;
  id: string;
}

export interface BlobSweepOptions {
  /**
   * Looks at the next `batch` blobs older than `graceMs` after `after` and removes those nothing names;
   * resolves with their ids and where to go on (undefined: the pass is done). sweepUnnamedBlobs in @weft/db.
   */
  sweep(graceMs: number, batch: number, after: SweepCursor | undefined): Promise<{ removed: string[]; next: SweepCursor | undefined }>;
  /** 0 turns the sweep off. @default DEFAULT_BLOB_SWEEP_GRACE_MS */
  graceMs?: number;
  /** @default DEFAULT_BLOB_SWEEP_INTERVAL_MS */
  intervalMs?: number;
  /** @default DEFAULT_BLOB_SWEEP_BATCH */
  batch?: number;
}

/**
 * Blob garbage collection (issue 12 item 4): removes blobs no run names any more (a deleted run's,
 * or one an attempt wrote whose result was lost), walking the old blobs in bounded steps, now and then. Runs are never
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

  /** One full pass over the blobs older than the grace, `batch` at a time, oldest first. Resolves with the blobs removed. */
  async execute(): Promise<{ blobs: number }> {
    const graceMs = this.options.graceMs ?? DEFAULT_BLOB_SWEEP_GRACE_MS;
    const batch = this.options.batch ?? DEFAULT_BLOB_SWEEP_BATCH;
    if (graceMs <= 0) return { blobs: 0 };
    let after: SweepCursor | undefined;
    return pruneInBatches(
      { blobs: 0 },
      async () => {
        const { removed, next } = await this.options.sweep(graceMs, batch, after);
        after = next;
        return { deleted: { blobs: removed.length }, more: next !== undefined };
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
