import { type InsightSummary, summarize } from '@weft/analytics';
import type { LifecycleEvent } from '@weft/contracts';
import { reconstructRun, runHistory, toJournalEntry } from '@weft/journal';
import { renderHistory } from './history.view';
import { renderInsights } from './insights.view';

const at = (ms: number) => new Date(Date.parse('2026-03-01T10:00:00.000Z') + ms).toISOString();
const event = (seq: number, ms: number, fields: Pick<LifecycleEvent, 'type' | 'status'> & Partial<LifecycleEvent>): LifecycleEvent => ({
  eventId: `r1:${seq}:0`,
  runId: 'r1',
  workflow: 'etl',
  version: '2',
  at: at(ms),
  correlationId: 'order-7',
  ...fields,
});

describe('renderHistory', () => {
  it('says who started the run, and per reviewed step who escalated and who decided', () => {
    const events = [
      event(1, 0, { type: 'run.queued', status: 'queued', data: { source: 'api', actor: { keyId: 'key_1', name: 'ci' } } }),
      event(2, 5, { type: 'review.requested', status: 'waiting', stepId: 'check', attempt: 1, data: { reviewId: 'rv1', title: 'Check it', assignees: ['finance'] } }),
      event(3, 8, { type: 'review.requested', status: 'waiting', stepId: 'check', attempt: 1, data: { reviewId: 'rv1', tier: 1, assignees: ['leads'], escalated: true, actor: 'local' } }),
      event(4, 10, { type: 'review.decided', status: 'waiting', stepId: 'check', attempt: 1, data: { reviewId: 'rv1', decision: 'continue', actor: { keyId: 'key_a', name: 'alice' }, comment: 'ok' } }),
      event(5, 10, { type: 'step.completed', status: 'completed', stepId: 'check', attempt: 1 }),
    ];
    const story = reconstructRun(
      events.map((e) => toJournalEntry(e).entry),
      [],
    );
    if (!story) throw new Error('no story');
    const lines = renderHistory(runHistory(story));
    expect(lines[1]).toBe('queued 2026-03-01T10:00:00.000Z · started by api, ci (key_1) · correlation order-7 · 5 event(s)');
    expect(lines).toContain('  +10ms  review decided for check: continue by alice (key_a) (ok)');
    expect(lines.find((l) => l.startsWith('check '))).toMatch(/check\s+completed\s+1\s+\S+\s+escalated to tier 1 by local, review continue by alice \(key_a\): ok$/);
  });

  it('prints the header, an aligned timeline, the steps and the error', () => {
    const events = [
      event(1, 0, { type: 'run.queued', status: 'queued' }),
      event(2, 0, { type: 'run.started', status: 'running' }),
      event(3, 5, { type: 'step.queued', status: 'queued', stepId: 'load', attempt: 1 }),
      event(4, 10, { type: 'step.retrying', status: 'retrying', stepId: 'load', attempt: 1, error: { code: 'HTTP_503', message: 'busy' }, data: { delayMs: 1000 } }),
      event(5, 1010, { type: 'step.queued', status: 'queued', stepId: 'load', attempt: 2 }),
      event(6, 1500, { type: 'step.failed', status: 'failed', stepId: 'load', attempt: 2, error: { code: 'HTTP_503', message: 'still busy' } }),
      event(7, 1500, { type: 'step.skipped', status: 'skipped', stepId: 'report', data: { reason: 'upstream failed: load' } }),
      event(8, 1500, { type: 'run.failed', status: 'failed', durationMs: 1500, error: { code: 'STEPS_FAILED', message: '1 step(s) failed: load' } }),
    ];
    const story = reconstructRun(
      events.map((e) => toJournalEntry(e).entry),
      [],
    );
    if (!story) throw new Error('no story');
    expect(renderHistory(runHistory(story))).toEqual([
      'run r1 · etl version 2 · failed in 1.50s',
      'queued 2026-03-01T10:00:00.000Z · correlation order-7 · 8 event(s)',
      '',
      '    +0ms  run queued (etl version 2)',
      '    +0ms  run started',
      '    +5ms  load attempt 1 queued',
      '   +10ms  load attempt 1 failed: HTTP_503 busy; retrying in 1.00s',
      '  +1.01s  load attempt 2 queued',
      '  +1.50s  load failed on attempt 2: HTTP_503 still busy',
      '  +1.50s  report skipped: upstream failed: load',
      '  +1.50s  run failed in 1.50s: STEPS_FAILED 1 step(s) failed: load',
      '',
      'STEP    STATUS   ATTEMPTS  DURATION  NOTE',
      'load    failed   2         1.50s     attempt 1: HTTP_503 busy; HTTP_503 still busy',
      'report  skipped  0         -         upstream failed: load',
      '',
      'error: STEPS_FAILED 1 step(s) failed: load',
    ]);
  });

  it('says whose child the run is and prints the sub-workflow runs below it as a tree', () => {
    const story = reconstructRun([toJournalEntry(event(1, 0, { type: 'run.queued', status: 'queued' })).entry], []);
    if (!story) throw new Error('no story');
    story.parent = { runId: 'p0', stepId: 'sub' };
    story.children = [
      { runId: 'c1', parentRunId: 'r1', stepId: 'fan', depth: 1, workflow: 'child', status: 'completed', startedAt: null, finishedAt: null, durationMs: 1500 },
      { runId: 'g1', parentRunId: 'c1', stepId: 'inner', depth: 2, workflow: 'grandchild', status: 'failed', startedAt: null, finishedAt: null, durationMs: 20 },
      { runId: 'c2', parentRunId: 'r1', stepId: 'fan', depth: 1, workflow: null, status: 'unknown', startedAt: null, finishedAt: null, durationMs: null },
    ];
    const lines = renderHistory(runHistory(story));
    expect(lines[1]).toBe('queued 2026-03-01T10:00:00.000Z · child of run p0 (step sub) · correlation order-7 · 1 event(s)');
    expect(lines.slice(lines.indexOf('sub-workflow runs:'))).toEqual([
      'sub-workflow runs:',
      '  └ c1 · child · completed in 1.50s (step fan)',
      '    └ g1 · grandchild · failed in 20ms (step inner)',
      '  └ c2 · (not in the journal) · unknown (step fan)',
    ]);
  });
});

describe('renderInsights', () => {
  it('prints runs, a sparkline trend, hotspots, steps and findings', () => {
    const T0 = Date.parse('2026-03-01T00:00:00.000Z');
    const H = 3_600_000;
    const bucket = (hour: number, count: number, sum: number) => ({ bucket: T0 + hour * H, started: count, restarted: 0, completed: count, partiallyCompleted: 0, failed: 0, canceled: 0, durationCount: count, durationSumMs: sum });
    const summary: InsightSummary = summarize({
      window: { since: T0, until: T0 + 4 * H },
      steps: [
        {
          workflow: 'etl',
          stepId: 'load',
          completed: 3,
          failed: 1,
          retried: 2,
          skipped: 0,
          canceled: 0,
          timedOut: 0,
          durationCount: 3,
          durationSumMs: 900,
          durationMinMs: 200,
          durationMaxMs: 400,
          histogram: { '62': 1, '66': 1, '70': 1 },
          lastFailedAt: null,
        },
      ],
      errors: [{ workflow: 'etl', stepId: 'load', code: 'HTTP_503', failures: 1, retries: 2 }],
      runBuckets: [bucket(0, 1, 1000), bucket(1, 1, 2000), bucket(3, 1, 4000)],
      runTotals: { started: 4, restarted: 0, completed: 3, partiallyCompleted: 0, failed: 1, canceled: 0, durationCount: 3, durationSumMs: 7000, durationMinMs: 1000, durationMaxMs: 4000, histogram: { '80': 1, '88': 1, '96': 1 } },
      movingWindow: 1,
    });
    expect(renderInsights(summary)).toEqual([
      'Insights: all workflows · 2026-03-01T00:00:00.000Z → 2026-03-01T04:00:00.000Z',
      '',
      'Runs      4 finished · 3 completed · 1 failed · success 75.0%',
      'Duration  avg 2.33s · p50 1.96s · p95 4.00s (completed runs)',
      'Trend     ▁▃ █  1.00s → 4.00s (+300%, slower)  [hourly, moving average of 1]',
      '',
      'Failure hotspots',
      '  WORKFLOW  STEP  FAILURES  RETRIES  FAIL RATE  TOP ERROR',
      '  etl       load  1         2        25.0%      HTTP_503 (3)',
      '',
      'Steps',
      '  WORKFLOW  STEP  DONE  FAILED  RETRIED  SKIPPED  SUCCESS  RETRY/RUN  AVG    P50    P95',
      '  etl       load  3     1       2        0        75.0%    0.50       300ms  292ms  400ms',
      '',
      'Findings',
      '  • 4 run(s) finished: 3 completed, 1 failed (success rate 75.0%)',
      '  • top failure hotspot: etl/load failed 1 time(s) (25.0% of its finished executions, mostly HTTP_503)',
      '  • etl/load needs retries: 0.50 per finished execution',
      '  • slowest step: etl/load, p95 400ms (p50 292ms)',
      '  • runs got slower: moving average 1.00s → 4.00s (+300%)',
    ]);
  });
});
