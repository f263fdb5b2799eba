import type { AnalyticsStore } from '../ports/analytics-store.port';
import { AnalyticsError } from './analytics.errors';
import type { DurationTrend, Hotspot, InsightSummary, InsightWindow, ReviewStats, StepStats } from './analytics.types';
import { reviewStats } from './review-insights.util';
import { DAY_MS, durationTrend, hotspots, stepStats, summarize } from './insights.util';

export interface InsightQuery extends InsightWindow {
  /** Hotspots returned. @default 10, at most 100 */
  limit?: number;
  /** Trend points averaged by the moving average. @default 3 */
  movingWindow?: number;
  /** Trend bucket size. @default hour up to 72 h, else day */
  granularity?: 'hour' | 'day';
}

export interface WindowEcho {
  workflow: string | null;
  since: string;
  until: string;
}

/** Longest window a query may span: keeps every answer to a bounded number of aggregate rows. */
export const MAX_WINDOW_MS = 400 * DAY_MS;
export const DEFAULT_HOTSPOTS = 10;

/** What analytics answers, from the aggregates of a window. */
export class InsightsQueries {
  constructor(private readonly store: AnalyticsStore) {}

  /** Database time, for windows relative to now (`since=24h`). */
  now(): Promise<number> {
    return this.store.now();
  }

  async summary(query: InsightQuery): Promise<InsightSummary> {
    const window = checked(query);
    const [steps, errors, runBuckets, runTotals, reviews] = await Promise.all([
      this.store.stepTotals(window),
      this.store.errorCodes(window),
      this.store.runBuckets(window),
      this.store.runTotals(window),
      this.store.reviewTotals(window),
    ]);
    return summarize({ window, steps, errors, runBuckets, runTotals, reviews, ...(query.movingWindow !== undefined && { movingWindow: query.movingWindow }) });
  }

  async hotspots(query: InsightQuery): Promise<{ window: WindowEcho; hotspots: Hotspot[] }> {
    const window = checked(query);
    const limit = query.limit ?? DEFAULT_HOTSPOTS;
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new AnalyticsError('INVALID_QUERY', 'limit must be an integer from 1 to 100');
    const [steps, errors] = await Promise.all([this.store.stepTotals(window), this.store.errorCodes(window)]);
    return { window: echo(window), hotspots: hotspots(steps, errors, limit) };
  }

  async trend(query: InsightQuery): Promise<{ window: WindowEcho; trend: DurationTrend }> {
    const window = checked(query);
    const movingWindow = query.movingWindow;
    if (movingWindow !== undefined && (!Number.isInteger(movingWindow) || movingWindow < 1 || movingWindow > 168)) {
      throw new AnalyticsError('INVALID_QUERY', 'window must be an integer from 1 to 168 (trend points)');
    }
    const rows = await this.store.runBuckets(window);
    const options = { ...(movingWindow !== undefined && { movingWindow }), ...(query.granularity !== undefined && { granularity: query.granularity }) };
    return { window: echo(window), trend: durationTrend(rows, window, options) };
  }

  /** Reviewed steps: time to decision (avg, p50, p95) and rejection rate of the reviews decided in the window. */
  async reviews(query: InsightQuery): Promise<{ window: WindowEcho; reviews: ReviewStats[] }> {
    const window = checked(query);
    return { window: echo(window), reviews: reviewStats(await this.store.reviewTotals(window)) };
  }

  async steps(query: InsightQuery): Promise<{ window: WindowEcho; steps: StepStats[] }> {
    const window = checked(query);
    return { window: echo(window), steps: (await this.store.stepTotals(window)).map(stepStats) };
  }
}

function checked(query: InsightQuery): InsightWindow {
  if (!Number.isFinite(query.since) || !Number.isFinite(query.until)) throw new AnalyticsError('INVALID_QUERY', 'since and until must be times');
  if (query.since >= query.until) throw new AnalyticsError('INVALID_QUERY', `since (${new Date(query.since).toISOString()}) must be before until (${new Date(query.until).toISOString()})`);
  if (query.until - query.since > MAX_WINDOW_MS) throw new AnalyticsError('INVALID_QUERY', 'the window may span at most 400 days');
  return {
    since: query.since,
    until: query.until,
    ...(query.namespace !== undefined && { namespace: query.namespace }),
    ...(query.workflow !== undefined && { workflow: query.workflow }),
  };
}

const echo = (window: InsightWindow): WindowEcho => ({
  workflow: window.workflow ?? null,
  since: new Date(window.since).toISOString(),
  until: new Date(window.until).toISOString(),
});
