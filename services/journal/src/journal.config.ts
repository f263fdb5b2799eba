import { ConfigError, durationVariable } from '@weft/config';
import { DEFAULT_PRUNE_INTERVAL_MS, type RetentionOptions } from './domain/prune-journal.usecase';

/** @default 30 days */
export const DEFAULT_JOURNAL_RETENTION = '30d';

/**
 * The journal's own settings, read from the environment `main` hands in (libs/config
 * owns the shared variables):
 * - WEFT_JOURNAL_RETENTION: how long entries and checkpoints are kept (`30d`, `12h`; `0` keeps them forever). @default 30d
 * - WEFT_JOURNAL_PRUNE_INTERVAL: pause between retention passes. @default 10m
 * Returns undefined retention when it is off. Throws ConfigError naming the variable.
 */
export function journalRetentionFromEnv(env: NodeJS.ProcessEnv): RetentionOptions | undefined {
  const maxAgeMs = durationVariable(env, 'WEFT_JOURNAL_RETENTION', DEFAULT_JOURNAL_RETENTION, '30d, 12h or 90m');
  const intervalMs = durationVariable(env, 'WEFT_JOURNAL_PRUNE_INTERVAL', `${DEFAULT_PRUNE_INTERVAL_MS}ms`, '30d, 12h or 90m');
  if (intervalMs < 1000) throw new ConfigError([{ variable: 'WEFT_JOURNAL_PRUNE_INTERVAL', message: `must be at least 1s (got ${JSON.stringify(env['WEFT_JOURNAL_PRUNE_INTERVAL'])})` }]);
  return maxAgeMs === 0 ? undefined : { maxAgeMs, intervalMs };
}
