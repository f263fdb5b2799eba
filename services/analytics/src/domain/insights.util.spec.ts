import type { RunBucketRow, RunTotalsRow, StepTotalsRow } from '../ports/analytics-store.port';
import { addToHistogram } from './duration-sketch.util';
import { durationTrend, findings, formatMs, granularityFor, hotspots, percent, runFigures, stepStats, summarize } from './insights.util';

const T0 = Date.parse('2026-03-01T00:00:00.000Z');
const H = 3_600_000;

function stepRow(workflow: string, stepId: string, fields: Partial<StepTotalsRow> = {}): StepTotalsRow {
  return {
    workflow,
    stepId,
    completed: 0,
    failed: 0,
    retried: 0,
    skipped: 0,
    canceled: 0,
    timedOut: 0,
    durationCount: 0,
    durationSumMs: 0,
    durationMinMs: null,
    durationMaxMs: null,
    histogram: {},
    lastFailedAt: null,
    ...fields,
  };
}

function runBucket(hour: number, fields: Partial<RunBucketRow> = {}): RunBucketRow {
  return { bucket: T0 + hour * H, started: 0, restarted: 0, completed: 0, partiallyCompleted: 0, failed: 0, canceled: 0, durationCount: 0, durationSumMs: 0, ...fields };
}

const emptyTotals: RunTotalsRow = {
  started: 0,
  restarted: 0,
  completed: 0,
  partiallyCompleted: 0,
  failed: 0,
  canceled: 0,
  durationCount: 0,
  durationSumMs: 0,
  durationMinMs: null,
  durationMaxMs: null,
  histogram: {},
};

describe('stepStats', () => {
  it('derives rates and durations from the sums', () => {
    let histogram = {};
    for (const ms of [100, 200, 300]) histogram = addToHistogram(histogram, ms);
    const stats = stepStats(stepRow('etl', 'load', { completed: 3, failed: 1, retried: 2, durationCount: 3, durationSumMs: 600, durationMinMs: 100, durationMaxMs: 300, histogram }));
    expect(stats).toMatchObject({ successRate: 0.75, retryRate: 0.5, avgMs: 200, minMs: 100, maxMs: 300, p95Ms: 300 });
    expect(stats.p50Ms).toBeCloseTo(2 ** (123 / 16), 6);
    expect(stepStats(stepRow('etl', 'idle', { skipped: 4 }))).toMatchObject({ successRate: null, retryRate: null, avgMs: null, p50Ms: null, p95Ms: null });
  });
});

describe('hotspots', () => {
  it('ranks by final failures, then retries, and names the most frequent error', () => {
    const rows = [
      stepRow('etl', 'a', { failed: 1, retried: 9, completed: 3 }),
      stepRow('etl', 'b', { failed: 4, completed: 4, lastFailedAt: T0 + 5 * H }),
      stepRow('ml', 'c', { failed: 1, retried: 10, completed: 1 }),
      stepRow('ml', 'fine', { completed: 10 }),
    ];
    const errors = [
      { workflow: 'etl', stepId: 'b', code: 'HTTP_500', failures: 3, retries: 0 },
      { workflow: 'etl', stepId: 'b', code: 'TIMEOUT', failures: 1, retries: 0 },
      { workflow: 'ml', stepId: 'c', code: 'OOM', failures: 1, retries: 10 },
    ];
    expect(hotspots(rows, errors, 2)).toEqual([
      { workflow: 'etl', stepId: 'b', failures: 4, retries: 0, completed: 4, failureRate: 0.5, topError: { code: 'HTTP_500', count: 3 }, lastFailureAt: '2026-03-01T05:00:00.000Z' },
      { workflow: 'ml', stepId: 'c', failures: 1, retries: 10, completed: 1, failureRate: 0.5, topError: { code: 'OOM', count: 11 }, lastFailureAt: null },
    ]);
  });
});

describe('durationTrend', () => {
  it('fills empty hours and averages over a moving window weighted by runs', () => {
    const window = { since: T0 + 30 * 60_000, until: T0 + 5 * H };
    const trend = durationTrend(
      [runBucket(0, { completed: 2, durationCount: 2, durationSumMs: 2000 }), runBucket(2, { completed: 1, failed: 1, durationCount: 1, durationSumMs: 4000 }), runBucket(4, { canceled: 1 })],
      window,
      { movingWindow: 2 },
    );
    expect(trend.granularity).toBe('hour');
    expect(trend.points).toEqual([
      { at: '2026-03-01T00:00:00.000Z', finished: 2, completed: 2, failed: 0, avgMs: 1000, movingAvgMs: 1000 },
      { at: '2026-03-01T01:00:00.000Z', finished: 0, completed: 0, failed: 0, avgMs: null, movingAvgMs: 1000 },
      { at: '2026-03-01T02:00:00.000Z', finished: 2, completed: 1, failed: 1, avgMs: 4000, movingAvgMs: 4000 },
      { at: '2026-03-01T03:00:00.000Z', finished: 0, completed: 0, failed: 0, avgMs: null, movingAvgMs: 4000 },
      { at: '2026-03-01T04:00:00.000Z', finished: 1, completed: 0, failed: 0, avgMs: null, movingAvgMs: null },
    ]);
    expect(trend.change).toBe(3);
    expect(trend.direction).toBe('slower');
  });

  it('uses days past three days, and calls small moves steady', () => {
    expect(granularityFor({ since: T0, until: T0 + 72 * H })).toBe('hour');
    expect(granularityFor({ since: T0, until: T0 + 73 * H })).toBe('day');
    const trend = durationTrend([runBucket(1, { durationCount: 10, durationSumMs: 10_000 }), runBucket(30, { durationCount: 10, durationSumMs: 10_500 })], { since: T0, until: T0 + 7 * 24 * H });
    expect(trend.points).toHaveLength(7);
    expect(trend.points[1]).toMatchObject({ at: '2026-03-02T00:00:00.000Z', avgMs: 1050, movingAvgMs: 1025 });
    // Moving averages 1000, 1025, 1025, 1050 (then no runs): +5%.
    expect(trend).toMatchObject({ granularity: 'day', change: 0.05, direction: 'steady' });
    expect(durationTrend([], { since: T0, until: T0 + H }).direction).toBe('unknown');
  });
});

describe('summarize and findings', () => {
  it('puts the figures together and says what matters first', () => {
    let runHistogram = {};
    for (const ms of [1000, 3000]) runHistogram = addToHistogram(runHistogram, ms);
    const totals: RunTotalsRow = { ...emptyTotals, started: 4, completed: 2, failed: 1, partiallyCompleted: 1, durationCount: 2, durationSumMs: 4000, durationMinMs: 1000, durationMaxMs: 3000, histogram: runHistogram };
    expect(runFigures(totals)).toEqual({ started: 4, finished: 4, completed: 2, partiallyCompleted: 1, failed: 1, canceled: 0, successRate: 0.5, avgMs: 2000, p50Ms: 1000, p95Ms: 3000 });
    const summary = summarize({
      window: { workflow: 'etl', since: T0, until: T0 + 3 * H },
      steps: [
        stepRow('etl', 'load', { completed: 3, failed: 1, retried: 3, durationCount: 3, durationSumMs: 3000, durationMinMs: 900, durationMaxMs: 1200, histogram: { '79': 1, '81': 2 } }),
        stepRow('etl', 'extract', { completed: 4, durationCount: 4, durationSumMs: 400, durationMinMs: 100, durationMaxMs: 100, histogram: { '54': 4 } }),
      ],
      errors: [{ workflow: 'etl', stepId: 'load', code: 'HTTP_503', failures: 1, retries: 3 }],
      runBuckets: [runBucket(0, { completed: 1, durationCount: 1, durationSumMs: 1000 }), runBucket(2, { completed: 1, failed: 1, partiallyCompleted: 1, durationCount: 1, durationSumMs: 3000 })],
      runTotals: totals,
      movingWindow: 1,
    });
    expect(summary.window).toEqual({ workflow: 'etl', since: '2026-03-01T00:00:00.000Z', until: '2026-03-01T03:00:00.000Z' });
    expect(summary.steps.map((s) => s.stepId)).toEqual(['extract', 'load']);
    expect(summary.hotspots.map((h) => h.stepId)).toEqual(['load']);
    expect(summary.slowest.map((s) => s.stepId)).toEqual(['load', 'extract']);
    expect(summary.flaky.map((s) => s.stepId)).toEqual(['load']);
    expect(summary.findings).toEqual([
      '4 run(s) finished: 2 completed, 1 failed, 1 partially completed (success rate 50.0%)',
      'top failure hotspot: etl/load failed 1 time(s) (25.0% of its finished executions, mostly HTTP_503)',
      'etl/load needs retries: 0.75 per finished execution',
      'slowest step: etl/load, p95 1.20s (p50 1.07s)',
      'runs got slower: moving average 1.00s → 3.00s (+200%)',
    ]);
  });

  it('says when nothing happened', () => {
    const summary = summarize({ window: { since: T0, until: T0 + H }, steps: [], errors: [], runBuckets: [], runTotals: emptyTotals });
    expect(summary.findings).toEqual(['nothing finished between 2026-03-01T00:00:00.000Z and 2026-03-01T01:00:00.000Z']);
    const { findings: _ignored, ...rest } = summary;
    expect(findings({ ...rest, hotspots: [{ workflow: 'w', stepId: 's', failures: 0, retries: 2, completed: 1, failureRate: 0, topError: null, lastFailureAt: null }], steps: [stepStats(stepRow('w', 's'))] })).toEqual([
      'no step failed for good; w/s retried 2 time(s)',
    ]);
  });

  it('formats', () => {
    expect([percent(null), percent(0.1234)]).toEqual(['n/a', '12.3%']);
    expect([999, 119_600].map(formatMs)).toEqual(['999ms', '2m00s']);
  });
});
