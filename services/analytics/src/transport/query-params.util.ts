import { parseDuration } from '@weft/core';
import { AnalyticsError } from '../domain/analytics.errors';
import type { InsightQuery } from '../domain/insights-queries.usecase';

/** A query string as Nest hands it over: repeated keys become arrays. */
export type RawQuery = Record<string, unknown>;

export const DEFAULT_SINCE = '24h';

/**
 * `?workflow=etl&since=24h&until=2026-03-02T00:00:00Z&limit=5&window=3&granularity=hour`.
 * `since` and `until` take an ISO 8601 time or a duration back from `now`;
 * `since` defaults to 24h, `until` to now.
 */
export function parseInsightQuery(raw: RawQuery, now: number): InsightQuery {
  const query: InsightQuery = {
    since: parseTime(single(raw, 'since') ?? DEFAULT_SINCE, now, 'since'),
    until: single(raw, 'until') === undefined ? now : parseTime(single(raw, 'until') ?? '', now, 'until'),
  };
  const workflow = single(raw, 'workflow');
  if (workflow !== undefined) query.workflow = workflow;
  const limit = integer(raw, 'limit');
  if (limit !== undefined) query.limit = limit;
  const window = integer(raw, 'window');
  if (window !== undefined) query.movingWindow = window;
  const granularity = single(raw, 'granularity');
  if (granularity !== undefined) {
    if (granularity !== 'hour' && granularity !== 'day') throw new AnalyticsError('INVALID_QUERY', `granularity: expected hour or day (got ${JSON.stringify(granularity)})`);
    query.granularity = granularity;
  }
  return query;
}

/** An ISO 8601 time, or a duration (`24h`, `7d`) counted back from `now`; epoch ms. */
export function parseTime(text: string, now: number, name: string): number {
  if (/^\d+(ms|s|m|h|d)/.test(text)) {
    try {
      return now - parseDuration(text);
    } catch {
      // Not a duration after all: try it as a time below.
    }
  }
  const time = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(time)) throw new AnalyticsError('INVALID_QUERY', `${name}: expected an ISO 8601 time or a duration such as 24h (got ${JSON.stringify(text)})`);
  return time;
}

function integer(raw: RawQuery, key: string): number | undefined {
  const text = single(raw, key);
  if (text === undefined) return undefined;
  if (!/^\d{1,6}$/.test(text)) throw new AnalyticsError('INVALID_QUERY', `${key}: expected an integer (got ${JSON.stringify(text)})`);
  return Number(text);
}

function single(raw: RawQuery, key: string): string | undefined {
  const value = raw[key];
  if (value === undefined || value === '') return undefined;
  if (typeof value === 'string') return value;
  throw new AnalyticsError('INVALID_QUERY', `${key}: give it once`);
}
