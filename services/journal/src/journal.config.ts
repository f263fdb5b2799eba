import { ConfigError } from '@weft/config';
import { parseDuration } from '@weft/core';
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
  const maxAgeMs = durationVar(env, 'WEFT_JOURNAL_RETENTION', DEFAULT_JOURNAL_RETENTION);
  const intervalMs = durationVar(env, 'WEFT_JOURNAL_PRUNE_INTERVAL', `${DEFAULT_PRUNE_INTERVAL_MS}ms`);
  if (intervalMs < 1000) throw new ConfigError([{ variable: 'WEFT_JOURNAL_PRUNE_INTERVAL', message: `must be at least 1s (got ${JSON.stringify(env['WEFT_JOURNAL_PRUNE_INTERVAL'])})` }]);
  return maxAgeMs === 0 ? undefined : { maxAgeMs, intervalMs };
}

function durationVar(env: NodeJS.ProcessEnv, variable: string, fallback: string): number {
  const raw = env[variable];
  const text = raw === undefined || raw.trim() === '' ? fallback : raw.trim();
  if (text === '0') return 0;
  try {
    return parseDuration(text);
  } catch {
    throw new ConfigError([{ variable, message: `expected a duration such as 30d, 12h or 90m, or 0 (got ${JSON.stringify(raw)})` }]);
  }
}
