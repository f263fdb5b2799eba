import { Controller, Get, Inject, Query, UseFilters } from '@nestjs/common';
import type { DurationTrend, Hotspot, InsightSummary, StepStats } from '../domain/analytics.types';
import { InsightsQueries, type WindowEcho } from '../domain/insights-queries.usecase';
import { AnalyticsProblemFilter } from './problem-details.filter';
import { parseInsightQuery, type RawQuery } from './query-params.util';

/** Insights under /v1: a summary, failure hotspots, the duration trend, per-step figures. */
@Controller('v1/insights')
@UseFilters(AnalyticsProblemFilter)
export class AnalyticsController {
  constructor(@Inject(InsightsQueries) private readonly queries: InsightsQueries) {}

  /** `?workflow=&since=24h&until=&window=` */
  @Get()
  async summary(@Query() raw: RawQuery): Promise<InsightSummary> {
    return this.queries.summary(parseInsightQuery(raw, await this.queries.now()));
  }

  /** `?workflow=&since=&until=&limit=10` */
  @Get('hotspots')
  async hotspots(@Query() raw: RawQuery): Promise<{ window: WindowEcho; hotspots: Hotspot[] }> {
    return this.queries.hotspots(parseInsightQuery(raw, await this.queries.now()));
  }

  /** `?workflow=&since=&until=&window=3&granularity=hour|day` */
  @Get('trends')
  async trends(@Query() raw: RawQuery): Promise<{ window: WindowEcho; trend: DurationTrend }> {
    return this.queries.trend(parseInsightQuery(raw, await this.queries.now()));
  }

  /** `?workflow=&since=&until=` */
  @Get('steps')
  async steps(@Query() raw: RawQuery): Promise<{ window: WindowEcho; steps: StepStats[] }> {
    return this.queries.steps(parseInsightQuery(raw, await this.queries.now()));
  }
}
