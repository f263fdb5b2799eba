import { InsightsHttp, parseQuery } from '@weft/contracts';
import { QueryParams, type RawQuery } from '@weft/platform';
import { AnalyticsError } from '../domain/analytics.errors';
import type { InsightQuery } from '../domain/insights-queries.usecase';

export type { RawQuery } from '@weft/platform';

export const DEFAULT_SINCE = '24h';

const invalidQuery = (message: string): AnalyticsError => new AnalyticsError('INVALID_QUERY', message);

/**
 * `?workflow=etl&since=24h&until=2026-03-02T00:00:00Z&limit=5&window=3&granularity=hour`,
 * validated with the API's schema (InsightsHttp.InsightsQuery: what GET /openapi.json shows).
 * `since` and `until` take an ISO 8601 time or a duration back from `now`;
 * `since` defaults to 24h, `until` to now.
 */
export function parseInsightQuery(raw: RawQuery, now: number): InsightQuery {
  const wire = parseQuery(InsightsHttp.InsightsQuery, raw, invalidQuery);
  const params = new QueryParams(raw, invalidQuery);
  const since = params.time(wire.since ?? DEFAULT_SINCE, now, 'since');
  const query: InsightQuery = { since, until: wire.until === undefined ? now : params.time(wire.until, now, 'until') };
  if (wire.workflow !== undefined) query.workflow = wire.workflow;
  if (wire.limit !== undefined) query.limit = Number(wire.limit);
  if (wire.window !== undefined) query.movingWindow = Number(wire.window);
  if (wire.granularity !== undefined) query.granularity = wire.granularity;
  return query;
}
