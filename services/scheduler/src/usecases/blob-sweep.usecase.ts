import { WalkingRetention } from '@weft/db';
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
export class BlobSweepUseCase extends WalkingRetention<'blobs', SweepCursor> {
  constructor(options: BlobSweepOptions, log: Pick<SchedulerLogger, 'info' | 'error'>) {
    const graceMs = options.graceMs ?? DEFAULT_BLOB_SWEEP_GRACE_MS;
    const batch = options.batch ?? DEFAULT_BLOB_SWEEP_BATCH;
    super({
      name: 'blob sweep',
      key: 'blobs',
      intervalMs: options.intervalMs ?? DEFAULT_BLOB_SWEEP_INTERVAL_MS,
      step: async (after) => {
        const { removed, next } = await options.sweep(graceMs, batch, after);
        return { deleted: removed.length, next };
      },
      log,
      off: graceMs <= 0,
    });
  }
}
