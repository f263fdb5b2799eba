import { InsightsHttp } from '@weft/contracts';
import type { AnswerOf, Same } from '@weft/platform/testing';
import type { z } from 'zod';
import type { RunTotalsRow, StepTotalsRow } from '../ports/analytics-store.port';
import { summarize } from '../domain/insights.util';
import type { AnalyticsController } from './analytics.controller';

/**
 * Analytics' answers are TypeScript types; the API's schemas (InsightsHttp in
 * @weft/contracts, which GET /openapi.json publishes) are zod. This file does not compile
 * (tsc, `npm test`) when a route's answer and its schema drift apart: each line is `true`
 * only for identical types.
 */
type Answer<K extends keyof AnalyticsController> = AnswerOf<AnalyticsController, K>;

const checks = {
  summary: true satisfies Same<Answer<'summary'>, z.infer<typeof InsightsHttp.InsightSummary>>,
  hotspots: true satisfies Same<Answer<'hotspots'>, z.infer<typeof InsightsHttp.InsightHotspots>>,
  trends: true satisfies Same<Answer<'trends'>, z.infer<typeof InsightsHttp.InsightTrend>>,
  steps: true satisfies Same<Answer<'steps'>, z.infer<typeof InsightsHttp.InsightSteps>>,
};

const T0 = Date.parse('2026-03-01T00:00:00.000Z');
const H = 3_600_000;
const totals = { durationCount: 0, durationSumMs: 0, durationMinMs: null, durationMaxMs: null, histogram: {} };

describe('analytics\' HTTP answers', () => {
  it('have the types of the API schemas (checked by the compiler)', () => {
    expect(Object.values(checks).every((check) => check)).toBe(true);
    expect(Object.keys(checks)).toHaveLength(4);
  });

  it('pass the API schemas at run time too (a summary with hotspots, flaky and slow steps, a trend)', () => {
    const load: StepTotalsRow = {
      ...totals,
      workflow: 'etl',
      stepId: 'load',
      completed: 3,
      failed: 1,
      retried: 3,
      skipped: 0,
      canceled: 0,
      timedOut: 1,
      durationCount: 3,
      durationSumMs: 3000,
      durationMinMs: 900,
      durationMaxMs: 1200,
      histogram: { '79': 1, '81': 2 },
      lastFailedAt: T0 + H,
    };
    const runTotals: RunTotalsRow = { ...totals, started: 2, restarted: 0, completed: 1, partiallyCompleted: 0, failed: 1, canceled: 0, durationCount: 1, durationSumMs: 1000, histogram: { '79': 1 } };
    const summary = summarize({
      window: { workflow: 'etl', since: T0, until: T0 + 3 * H },
      steps: [load],
      errors: [{ workflow: 'etl', stepId: 'load', code: 'HTTP_503', failures: 1, retries: 3 }],
      runBuckets: [{ bucket: T0, started: 2, restarted: 0, completed: 1, partiallyCompleted: 0, failed: 1, canceled: 0, durationCount: 1, durationSumMs: 1000 }],
      runTotals,
    });
    expect([summary.hotspots.length, summary.flaky.length, summary.slowest.length, summary.trend.points.length]).toEqual([1, 1, 1, 3]);
    expect(InsightsHttp.InsightSummary.safeParse(summary).error).toBeUndefined();
    expect(InsightsHttp.InsightHotspots.safeParse({ window: summary.window, hotspots: summary.hotspots }).error).toBeUndefined();
    expect(InsightsHttp.InsightTrend.safeParse({ window: summary.window, trend: summary.trend }).error).toBeUndefined();
    expect(InsightsHttp.InsightSteps.safeParse({ window: summary.window, steps: summary.steps }).error).toBeUndefined();
  });
});
