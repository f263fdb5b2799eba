export * from './domain/analytics.types';
export * from './domain/analytics.errors';
export {
  type DurationHistogram,
  MAX_BUCKET,
  SKETCH_RELATIVE_ERROR,
  SUB_BUCKETS,
  addToHistogram,
  bucketOf,
  mergeHistograms,
  quantile,
  representative,
} from './domain/duration-sketch.util';
export { HOUR_MS, deltaFor, hourOf } from './domain/event-delta.util';
export { DAY_MS, DEFAULT_MOVING_WINDOW, durationTrend, findings, formatMs, granularityFor, hotspots, percent, runFigures, stepStats, summarize } from './domain/insights.util';
export { DEFAULT_HOTSPOTS, type InsightQuery, InsightsQueries, MAX_WINDOW_MS, type WindowEcho } from './domain/insights-queries.usecase';
export { type AnalyticsOutcome, RecordAnalyticsEventUseCase } from './domain/record-event.usecase';
export { type AnalyticsRetentionOptions, DEFAULT_DEDUP_WINDOW_MS, PruneAnalyticsUseCase } from './domain/prune-analytics.usecase';
export type { AnalyticsStore, ErrorCodeRow, RunBucketRow, RunTotalsRow, StepTotalsRow } from './ports/analytics-store.port';
export { ANALYTICS_MIGRATIONS, ANALYTICS_MIGRATIONS_TABLE } from './persistence/analytics-schema';
export { type OpenAnalyticsStoreOptions, SqlAnalyticsStore, openAnalyticsStore } from './persistence/sql-analytics.store';
export { type AnalyticsConsumerOptions, AnalyticsEventsHandler, type AnalyticsLogger, isTerminal } from './transport/analytics-events.handler';
export { DEFAULT_SINCE, parseInsightQuery } from './transport/query-params.util';
export { analyticsRetentionOf } from './analytics.config';
export { AnalyticsModule, type AnalyticsModuleOptions } from './analytics.module';
