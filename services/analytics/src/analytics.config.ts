import { ConfigError, durationVariable } from '@weft/config';
import { type AnalyticsRetentionOptions, DEFAULT_ANALYTICS_PRUNE_INTERVAL_MS } from './domain/prune-analytics.usecase';

/** @default 90 days */
export const DEFAULT_ANALYTICS_RETENTION = '90d';

/**
 * Analytics' own settings, read from the environment `main` hands in (libs/config
 * owns the shared variables):
 * - WEFT_ANALYTICS_RETENTION: how long hourly aggregates are kept (`90d`; `0` keeps them forever). @default 90d
 * - WEFT_ANALYTICS_PRUNE_INTERVAL: pause between retention passes. @default 10m
 * Throws ConfigError naming the variable.
 */
export function analyticsRetentionFromEnv(env: NodeJS.ProcessEnv): AnalyticsRetentionOptions {
  const maxAgeMs = durationVariable(env, 'WEFT_ANALYTICS_RETENTION', DEFAULT_ANALYTICS_RETENTION, '90d or 12h');
  const intervalMs = durationVariable(env, 'WEFT_ANALYTICS_PRUNE_INTERVAL', `${DEFAULT_ANALYTICS_PRUNE_INTERVAL_MS}ms`, '90d or 12h');
  if (intervalMs < 1000) throw new ConfigError([{ variable: 'WEFT_ANALYTICS_PRUNE_INTERVAL', message: `must be at least 1s (got ${JSON.stringify(env['WEFT_ANALYTICS_PRUNE_INTERVAL'])})` }]);
  return { intervalMs, ...(maxAgeMs > 0 && { aggregatesMaxAgeMs: maxAgeMs }) };
}
