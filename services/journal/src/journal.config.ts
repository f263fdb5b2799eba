import type { WeftConfig } from '@weft/config';
import type { RetentionOptions } from './domain/prune-journal.usecase';

/** The journal's retention from WEFT_JOURNAL_RETENTION / WEFT_JOURNAL_PRUNE_INTERVAL (validated by @weft/config); undefined when it is off (`0`). */
export function journalRetentionOf(config: Pick<WeftConfig, 'WEFT_JOURNAL_RETENTION' | 'WEFT_JOURNAL_PRUNE_INTERVAL'>): RetentionOptions | undefined {
  const maxAgeMs = config.WEFT_JOURNAL_RETENTION;
  return maxAgeMs === 0 ? undefined : { maxAgeMs, intervalMs: config.WEFT_JOURNAL_PRUNE_INTERVAL };
}
