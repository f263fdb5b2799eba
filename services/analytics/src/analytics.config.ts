import type { WeftConfig } from '@weft/config';
import type { AnalyticsRetentionOptions } from './domain/prune-analytics.usecase';

/** Analytics' retention from WEFT_ANALYTICS_RETENTION / WEFT_ANALYTICS_PRUNE_INTERVAL (validated by @weft/config); aggregates are kept forever at `0`. */
export function analyticsRetentionOf(config: Pick<WeftConfig, 'WEFT_ANALYTICS_RETENTION' | 'WEFT_ANALYTICS_PRUNE_INTERVAL'>): AnalyticsRetentionOptions {
  const maxAgeMs = config.WEFT_ANALYTICS_RETENTION;
  return { intervalMs: config.WEFT_ANALYTICS_PRUNE_INTERVAL, ...(maxAgeMs > 0 && { aggregatesMaxAgeMs: maxAgeMs }) };
}
