import { T10 } from './analytics.fixtures';
import type { InsightsQueries } from '../domain/insights-queries.usecase';

const MIN = 60_000;
const window = { since: T10, until: T10 + 120 * MIN };

/**
 * The figures of `fixedRuns()`, counted by hand. Quantiles not at the first or last
 * rank read the sketch: the geometric middle of the value's bucket, 2^((2k-1)/16)
 * for bucket k = floor(8 log2(ms)) + 1 (100 ms -> k 54, 2000 ms -> k 88, 3000 ms -> k 93),
 * clamped to the exact min and max (300 ms -> 291.6, clamped to the min 300).
 */
export async function expectHandCountedFigures(queries: InsightsQueries): Promise<void> {
  const etl = { ...window, workflow: 'etl' };
  expect((await queries.steps(etl)).steps).toEqual([
    {
      workflow: 'etl',
      stepId: 'extract',
      completed: 5,
      failed: 1,
      retried: 0,
      skipped: 0,
      canceled: 0,
      timedOut: 0,
      successRate: 5 / 6,
      retryRate: 0,
      avgMs: 180,
      p50Ms: 2 ** (107 / 16),
      p95Ms: 400,
      minMs: 100,
      maxMs: 400,
    },
    {
      workflow: 'etl',
      stepId: 'load',
      completed: 3,
      failed: 1,
      retried: 3,
      skipped: 1,
      canceled: 1,
      timedOut: 1,
      successRate: 0.75,
      retryRate: 0.75,
      avgMs: 1100 / 3,
      p50Ms: 300,
      p95Ms: 500,
      minMs: 300,
      maxMs: 500,
    },
  ]);

  expect((await queries.hotspots(etl)).hotspots).toEqual([
    {
      workflow: 'etl',
      stepId: 'load',
      failures: 1,
      retries: 3,
      completed: 3,
      failureRate: 0.25,
      topError: { code: 'HTTP_503', count: 3 },
      lastFailureAt: new Date(T10 + 40 * MIN + 2500).toISOString(),
    },
    { workflow: 'etl', stepId: 'extract', failures: 1, retries: 0, completed: 5, failureRate: 1 / 6, topError: { code: 'AUTH', count: 1 }, lastFailureAt: new Date(T10 + 90 * MIN + 50).toISOString() },
  ]);
  const everywhere = await queries.hotspots({ ...window, limit: 3 });
  expect(everywhere.hotspots.map((h) => [h.workflow, h.stepId, h.failures, h.retries])).toEqual([
    ['etl', 'load', 1, 3],
    ['etl', 'extract', 1, 0],
    ['ml', 'train', 0, 1],
  ]);

  expect((await queries.trend(etl)).trend).toEqual({
    granularity: 'hour',
    window: 3,
    points: [
      { at: '2026-03-01T10:00:00.000Z', finished: 3, completed: 2, failed: 1, avgMs: 1500, movingAvgMs: 1500 },
      { at: '2026-03-01T11:00:00.000Z', finished: 3, completed: 1, failed: 1, avgMs: 3000, movingAvgMs: 2000 },
    ],
    change: 1 / 3,
    direction: 'slower',
  });

  const summary = await queries.summary(etl);
  expect(summary.runs).toEqual({ started: 6, finished: 6, completed: 3, partiallyCompleted: 0, failed: 2, canceled: 1, successRate: 0.5, avgMs: 2000, p50Ms: 2 ** (175 / 16), p95Ms: 3000 });
  expect(summary.findings).toEqual([
    '6 run(s) finished: 3 completed, 2 failed, 1 canceled (success rate 50.0%)',
    'top failure hotspot: etl/load failed 1 time(s) (25.0% of its finished executions, mostly HTTP_503)',
    'etl/load needs retries: 0.75 per finished execution',
    'slowest step: etl/load, p95 500ms (p50 300ms)',
    'runs got slower: moving average 1.50s → 2.00s (+33%)',
  ]);

  const all = await queries.summary(window);
  expect(all.runs).toEqual({ started: 8, finished: 8, completed: 5, partiallyCompleted: 0, failed: 2, canceled: 1, successRate: 5 / 8, avgMs: 32_400, p50Ms: 2 ** (185 / 16), p95Ms: 95_000 });
  expect(all.steps.find((s) => s.stepId === 'train')).toMatchObject({ completed: 2, retried: 1, successRate: 1, retryRate: 0.5, avgMs: 75_000, p50Ms: 60_000, p95Ms: 90_000 });

  // Only the 11:00 hour: r4, r5, r6 and m2.
  const late = await queries.steps({ since: T10 + 60 * MIN, until: T10 + 120 * MIN, workflow: 'etl' });
  expect(late.steps.map((s) => [s.stepId, s.completed, s.failed, s.skipped, s.canceled])).toEqual([
    ['extract', 2, 1, 0, 0],
    ['load', 1, 0, 1, 1],
  ]);
}
