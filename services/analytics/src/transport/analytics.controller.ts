import { Controller, Get, Inject, Query, UseFilters } from '@nestjs/common';
import { type Caller, CallerOf } from '@weft/platform';
import type { DurationTrend, Hotspot, InsightSummary, ReviewStats, StepStats } from '../domain/analytics.types';
import { type InsightQuery, InsightsQueries, type WindowEcho } from '../domain/insights-queries.usecase';
import { analyticsProblemFilter } from './problem-details.filter';
import { parseInsightQuery, type RawQuery } from './query-params.util';

/**
 * Insights under /v1: a summary, failure hotspots, the duration trend, per-step figures, reviews,
 * always of the caller's namespace (an API-key gate sets the caller; see AnalyticsModule's `auth`).
 */
@Controller('v1/insights')
@UseFilters(analyticsProblemFilter)
export class AnalyticsController {
  constructor(@Inject(InsightsQueries) private readonly queries: InsightsQueries) {}

  /** `?workflow=&since=24h&until=&window=` */
  @Get()
  async summary(@CallerOf() caller: Caller, @Query() raw: RawQuery): Promise<InsightSummary> {
    return this.queries.summary(await this.query(caller, raw));
  }

  /** `?workflow=&since=&until=&limit=10` */
  @Get('hotspots')
  async hotspots(@CallerOf() caller: Caller, @Query() raw: RawQuery): Promise<{ window: WindowEcho; hotspots: Hotspot[] }> {
    return this.queries.hotspots(await this.query(caller, raw));
  }

  /** `?workflow=&since=&until=&window=3&granularity=hour|day` */
  @Get('trends')
  async trends(@CallerOf() caller: Caller, @Query() raw: RawQuery): Promise<{ window: WindowEcho; trend: DurationTrend }> {
    return this.queries.trend(await this.query(caller, raw));
  }

  /** `?workflow=&since=&until=` */
  @Get('steps')
  async steps(@CallerOf() caller: Caller, @Query() raw: RawQuery): Promise<{ window: WindowEcho; steps: StepStats[] }> {
    return this.queries.steps(await this.query(caller, raw));
  }

  /** `?workflow=&since=&until=` */
  @Get('reviews')
  async reviews(@CallerOf() caller: Caller, @Query() raw: RawQuery): Promise<{ window: WindowEcho; reviews: ReviewStats[] }> {
    return this.queries.reviews(await this.query(caller, raw));
  }

  private async query(caller: Caller, raw: RawQuery): Promise<InsightQuery> {
    return { ...parseInsightQuery(raw, await this.queries.now()), namespace: caller.namespace };
  }
}
