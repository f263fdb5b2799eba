import { WalkingRetention } from '@weft/db';
import type { RunStore } from '../ports/run-store.port';
import type { SchedulerLogger } from '../ports/scheduler-logger.port';

/** Default age (database time since its publish) past which a published outbox row is deleted: WEFT_OUTBOX_RETENTION. */
export const DEFAULT_OUTBOX_RETENTION_MS = 60 * 60_000;
/** Default pause between passes: WEFT_OUTBOX_PRUNE_INTERVAL. */
export const DEFAULT_OUTBOX_PRUNE_INTERVAL_MS = 60_000;
/** Rows looked at per statement: no statement runs long, even on PGlite's one session. */
export const DEFAULT_OUTBOX_PRUNE_BATCH = 5_000;

export interface OutboxRetentionOptions {
  /** 0 keeps published rows forever. @default DEFAULT_OUTBOX_RETENTION_MS */
  retentionMs?: number;
  /** @default DEFAULT_OUTBOX_PRUNE_INTERVAL_MS */
  intervalMs?: number;
  /** @default DEFAULT_OUTBOX_PRUNE_BATCH */
  batch?: number;
}

/**
 * Deletes outbox rows published longer ago than the retention, walking the table oldest first
 * in bounded statements, now and then. The outbox is the scheduler's transactional queue of
 * messages: a row has done its work once JetStream stored it (the broker's stream is the
 * record), and is kept a while only for operators to read. Without this a SQL store kept every
 * message it ever sent (~4 rows per step). Unpublished and quarantined rows stay. Every
 * replica may prune: two deleting the same row take turns, and the second finds it gone.
 */
export class OutboxRetentionUseCase extends WalkingRetention<'published', string> {
  constructor(store: Required<Pick<RunStore, 'prunePublishedOutbox'>>, log: Pick<SchedulerLogger, 'info' | 'error'>, options: OutboxRetentionOptions = {}) {
    const retentionMs = options.retentionMs ?? DEFAULT_OUTBOX_RETENTION_MS;
    const batch = options.batch ?? DEFAULT_OUTBOX_PRUNE_BATCH;
    super({
      name: 'outbox',
      key: 'published',
      intervalMs: options.intervalMs ?? DEFAULT_OUTBOX_PRUNE_INTERVAL_MS,
      step: (after) => store.prunePublishedOutbox(retentionMs, batch, after),
      log,
      off: retentionMs <= 0,
    });
  }
}
