import { WalkingRetention } from '@weft/platform';
import type { SqlTriggerStore } from '../persistence/sql-trigger.store';
import type { TriggersLogger } from '../ports/triggers-logger.port';

/** Default age past which a fire log row is deleted: WEFT_TRIGGER_FIRE_RETENTION. */
export const DEFAULT_FIRE_RETENTION_MS = 30 * 86_400_000;
/** Default pause between passes: WEFT_TRIGGER_PRUNE_INTERVAL. */
export const DEFAULT_FIRE_PRUNE_INTERVAL_MS = 10 * 60_000;
/** Rows looked at per statement. */
export const DEFAULT_FIRE_PRUNE_BATCH = 2_000;

export interface FireRetentionOptions {
  /** 0 keeps the fire log forever. @default DEFAULT_FIRE_RETENTION_MS */
  retentionMs?: number;
  /** @default DEFAULT_FIRE_PRUNE_INTERVAL_MS */
  intervalMs?: number;
  /** @default DEFAULT_FIRE_PRUNE_BATCH */
  batch?: number;
}

/**
 * Fire log retention: every occurrence of every trigger (a tick, a delivery, a message) is a row
 * of `trigger_fires`, so a webhook or event trigger at a steady rate grew the table without end.
 * Walks it oldest first in bounded statements (SqlTriggerStore.pruneFires) and deletes rows older
 * than the retention, keeping what is still at work and each trigger's last fire. Every replica
 * may prune: two deleting the same row take turns, and the second finds it gone.
 */
export class PruneFiresUseCase extends WalkingRetention<'fires', string> {
  constructor(store: Pick<SqlTriggerStore, 'pruneFires'>, log: Pick<TriggersLogger, 'info' | 'error'>, options: FireRetentionOptions = {}) {
    const retentionMs = options.retentionMs ?? DEFAULT_FIRE_RETENTION_MS;
    const batch = options.batch ?? DEFAULT_FIRE_PRUNE_BATCH;
    super({
      name: 'trigger fire log',
      key: 'fires',
      intervalMs: options.intervalMs ?? DEFAULT_FIRE_PRUNE_INTERVAL_MS,
      step: (after) => store.pruneFires(retentionMs, batch, after),
      log,
      off: retentionMs <= 0,
    });
  }
}
