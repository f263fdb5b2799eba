import { QueryParams, type RawQuery } from '@weft/platform';
import { AnalyticsError } from '../domain/analytics.errors';
import type { InsightQuery } from '../domain/insights-queries.usecase';

export type { RawQuery } from '@weft/platform';

export const DEFAULT_SINCE = '24h';

const invalidQuery = (message: string): AnalyticsError => new AnalyticsError('INVALID_QUERY', message);

/**
 * `?workflow=etl&since=24h&until=2026-03-02T00:00:00Z&limit=5&window=3&granularity=hour`.
 * `since` and `until` take an ISO 8601 time or a duration back from `now`;
 * `since` defaults to 24h, `until` to now.
 */
export function parseInsightQuery(raw: RawQuery, now: number): InsightQuery {
  const params = new QueryParams(raw, invalidQuery);
  const since = params.time(params.single('since') ?? DEFAULT_SINCE, now, 'since');
  const until = params.single('until');
  const query: InsightQuery = { since, until: until === undefined ? now : params.time(until, now, 'until') };
  const workflow = params.single('workflow');
  if (workflow !== undefined) query.workflow = workflow;
  const limit = params.integer('limit', 6);
  if (limit !== undefined) query.limit = limit;
  const window = params.integer('window', 6);
  if (window !== undefined) query.movingWindow = window;
  const granularity = params.single('granularity');
  if (granularity !== undefined) {
    if (granularity !== 'hour' && granularity !== 'day') throw invalidQuery(`granularity: expected hour or day (got ${JSON.stringify(granularity)})`);
    query.granularity = granularity;
  }
  return query;
}
