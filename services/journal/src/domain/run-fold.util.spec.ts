import type { Checkpoint, JournalEntry } from './journal.types';
import { lifecycleEvent, storyOfARun } from '../testing/journal.fixtures';
import { toJournalEntry } from './journal-entry.util';
import { describeEvent, formatMs, reconstructRun, runHistory } from './run-fold.util';

const entries = (runId: string): JournalEntry[] => storyOfARun(runId).map((e) => toJournalEntry(e).entry);

function checkpoint(runId: string, stepId: string, at: string, output: unknown, state: Record<string, unknown>): Checkpoint {
  return { runId, workflow: 'data-pipeline', version: '3', stepId, attempt: 1, eventId: `${runId}:x:${stepId}`, at, output, state };
}

/** Deterministic shuffle (arrival order is not event order). */
const shuffled = <T>(items: T[]): T[] => items.map((item, i) => ({ item, key: (i * 7919) % 17 })).sort((a, b) => a.key - b.key).map((x) => x.item);

describe('reconstructRun', () => {
  it('tells the whole story of a run: state, steps, attempts with errors, skips, failure, ordered events', () => {
    const checkpoints = [
      checkpoint('r1', 'validate', '2026-01-05T10:00:01.380Z', { valid: true }, { ingest: { rows: 3 }, validate: { valid: true } }),
      checkpoint('r1', 'ingest', '2026-01-05T10:00:00.110Z', { rows: 3 }, { ingest: { rows: 3 } }),
    ];
    const story = reconstructRun(shuffled(entries('r1')), checkpoints);
    expect(story).toBeDefined();
    if (!story) return;
    expect(story.events.map((e) => e.eventId)).toEqual(storyOfARun('r1').map((e) => e.eventId));
    expect(story.run).toEqual({
      runId: 'r1',
      workflow: 'data-pipeline',
      version: '3',
      status: 'partially_completed',
      correlationId: 'corr-r1',
      traceId: null,
      queuedAt: '2026-01-05T10:00:00.000Z',
      startedAt: '2026-01-05T10:00:00.000Z',
      finishedAt: '2026-01-05T10:00:02.390Z',
      durationMs: 2390,
      inputs: { source: 's3://bucket/batch' },
      outputs: null,
      error: { code: 'STEPS_FAILED', message: '1 step(s) failed: export', retryable: false },
      restarts: 0,
      events: 17,
    });
    expect(story.steps.map((s) => [s.stepId, s.status, s.attempts.length])).toEqual([
      ['ingest', 'completed', 1],
      ['validate', 'completed', 2],
      ['notify', 'skipped', 0],
      ['export', 'failed', 1],
    ]);
    const validate = story.steps[1];
    expect(validate.attempts[0]).toEqual({
      attempt: 1,
      status: 'failed',
      queuedAt: '2026-01-05T10:00:00.110Z',
      startedAt: '2026-01-05T10:00:00.120Z',
      finishedAt: '2026-01-05T10:00:00.170Z',
      durationMs: 50,
      workerId: 'w-2',
      queue: 'default',
      action: 'validate-records',
      error: { code: 'HTTP_500', message: 'upstream exploded' },
      timedOut: false,
      retryDelayMs: 1000,
    });
    expect(validate.attempts[1]).toMatchObject({ attempt: 2, status: 'completed', durationMs: 200, workerId: 'w-1', error: null });
    expect(validate).toMatchObject({ error: null, durationMs: 1270, output: { valid: true } });
    expect(story.steps[2]).toMatchObject({ stepId: 'notify', reason: 'condition is false', attempts: [] });
    expect(story.steps[3]).toMatchObject({
      stepId: 'export',
      error: { code: 'TIMEOUT' },
      attempts: [{ attempt: 1, status: 'failed', timedOut: true, durationMs: 1000, error: { code: 'TIMEOUT' } }],
    });
    expect(story.checkpoints.map((c) => c.stepId)).toEqual(['ingest', 'validate']);
    expect(story.notes).toEqual([]);
  });

  it('follows a run re-run after it failed: restarts counted, the run ends as the re-run ended', () => {
    const e = (seq: number, offset: number, fields: Parameters<typeof lifecycleEvent>[4]) => toJournalEntry(lifecycleEvent('r2', seq, 0, offset, fields)).entry;
    const story = reconstructRun(
      [
        e(1, 0, { type: 'run.queued', status: 'queued' }),
        e(2, 0, { type: 'run.started', status: 'running' }),
        e(3, 5, { type: 'step.failed', status: 'failed', stepId: 'a', attempt: 1, error: { code: 'E', message: 'no' } }),
        e(4, 5, { type: 'run.failed', status: 'failed', durationMs: 5, error: { code: 'E', message: 'no' } }),
        e(5, 100, { type: 'run.started', status: 'running', data: { retry: true } }),
        e(6, 100, { type: 'step.queued', status: 'queued', stepId: 'a', attempt: 2 }),
        e(7, 150, { type: 'step.completed', status: 'completed', stepId: 'a', attempt: 2, durationMs: 50 }),
        e(8, 150, { type: 'run.completed', status: 'completed', durationMs: 150, data: { outputs: { done: true } } }),
      ],
      [],
    );
    expect(story?.run).toMatchObject({ status: 'completed', restarts: 1, error: null, outputs: { done: true }, durationMs: 150 });
    expect(story?.steps[0]).toMatchObject({ status: 'completed', error: null, attempts: [{ attempt: 1, status: 'failed' }, { attempt: 2, status: 'completed' }] });
  });

  it('tells who started the run from its run.queued event (source and actor), and nothing for older runs', () => {
    const queued = (data: Record<string, unknown>): JournalEntry =>
      toJournalEntry(lifecycleEvent('r9', 1, 0, 0, { type: 'run.queued', status: 'queued', data: { version: '3', inputs: {}, ...data } })).entry;
    const actor = { keyId: 'key_1', name: 'ci' };
    expect(reconstructRun([queued({ source: 'rerun:r8', actor })], [])?.run).toMatchObject({ source: 'rerun:r8', actor });
    expect(reconstructRun([queued({ source: 'trigger:t1' })], [])?.run).toMatchObject({ source: 'trigger:t1' });
    const older = reconstructRun([queued({})], [])?.run;
    expect(older).toBeDefined();
    expect(older && 'source' in older).toBe(false);
    expect(older && 'actor' in older).toBe(false);
  });

  it('folds a step\'s waits and reviews: who was asked, who escalated, who decided what', () => {
    const alice = { keyId: 'key_a', name: 'alice' };
    const ops = { keyId: 'key_o', name: 'ops' };
    const events = [
      lifecycleEvent('r7', 1, 0, 0, { type: 'run.queued', status: 'queued', data: { source: 'cli', actor: 'local' } }),
      lifecycleEvent('r7', 2, 0, 10, { type: 'step.waiting', status: 'waiting', stepId: 'nap', attempt: 1, data: { wait: 'sleep', until: '2026-01-05T10:00:05.000Z' } }),
      lifecycleEvent('r7', 3, 0, 20, { type: 'step.waiting', status: 'waiting', stepId: 'paid', attempt: 1, data: { wait: 'event', event: 'invoice.paid', key: 'o-1' } }),
      lifecycleEvent('r7', 4, 0, 30, { type: 'review.requested', status: 'waiting', stepId: 'check', attempt: 1, data: { reviewId: 'rv1', title: 'Check 10', assignees: ['finance'], byRule: true } }),
      lifecycleEvent('r7', 5, 0, 40, { type: 'review.requested', status: 'waiting', stepId: 'check', attempt: 1, data: { reviewId: 'rv1', tier: 1, assignees: ['leads'], escalated: true, actor: ops, comment: 'urgent' } }),
      lifecycleEvent('r7', 6, 0, 50, { type: 'review.decided', status: 'waiting', stepId: 'check', attempt: 1, data: { reviewId: 'rv1', decision: 'reject', actor: alice, comment: 'wrong total', at: '2026-01-05T10:00:00.050Z' } }),
      lifecycleEvent('r7', 6, 1, 50, { type: 'step.failed', status: 'failed', stepId: 'check', attempt: 1, error: { code: 'REJECTED', message: 'rejected by alice (key_a): wrong total', retryable: false } }),
    ].map((e) => toJournalEntry(e).entry);
    const story = reconstructRun(events, []);
    if (!story) throw new Error('no story');
    const step = (id: string) => story.steps.find((s) => s.stepId === id);
    expect(step('nap')?.waits).toEqual([{ attempt: 1, at: '2026-01-05T10:00:00.010Z', wait: 'sleep', until: '2026-01-05T10:00:05.000Z', event: null, key: null }]);
    expect(step('paid')).toMatchObject({ status: 'waiting', waits: [{ wait: 'event', event: 'invoice.paid', key: 'o-1', until: null }] });
    expect(step('check')).toMatchObject({ status: 'failed', error: { code: 'REJECTED' } });
    expect(step('check')?.reviews).toEqual([
      {
        reviewId: 'rv1',
        attempt: 1,
        requestedAt: '2026-01-05T10:00:00.030Z',
        title: 'Check 10',
        assignees: ['leads'],
        escalations: [{ at: '2026-01-05T10:00:00.040Z', tier: 1, assignees: ['leads'], overdue: false, actor: ops, comment: 'urgent' }],
        decision: 'reject',
        actor: alice,
        comment: 'wrong total',
        decidedAt: '2026-01-05T10:00:00.050Z',
      },
    ]);
    expect(step('nap')?.reviews).toBeUndefined();
    expect(runHistory(story).timeline.map((t) => t.text).slice(3, 6)).toEqual([
      'review requested for check: Check 10 (assignees finance)',
      'review of check escalated to tier 1 (assignees leads) by ops (key_o) (urgent)',
      'review decided for check: reject by alice (key_a) (wrong total)',
    ]);
    // A decision whose request was pruned still names who decided.
    const decidedOnly = reconstructRun(events.slice(5), []);
    expect(decidedOnly?.steps[0]?.reviews).toEqual([expect.objectContaining({ reviewId: 'rv1', requestedAt: null, decision: 'reject', actor: alice })]);
  });

  it('says so when the start of the history is missing, and knows nothing of an unknown run', () => {
    const tail = entries('r3').slice(-2);
    expect(reconstructRun(tail, [])?.notes).toEqual([expect.stringMatching(/starts at step.failed/)]);
    const stepsOnly = entries('r3').slice(3, 5);
    expect(reconstructRun(stepsOnly, [])?.run.status).toBe('unknown');
    expect(reconstructRun([], [])).toBeUndefined();
  });
});

describe('runHistory', () => {
  it('gives one readable line per event with offsets from the first', () => {
    const story = reconstructRun(entries('r4'), []);
    if (!story) throw new Error('no story');
    const lines = runHistory(story).timeline.map((item) => `+${item.offsetMs} ${item.text}`);
    expect(lines).toEqual([
      '+0 run queued (data-pipeline version 3)',
      '+0 run started',
      '+0 ingest attempt 1 queued on queue default (http.request)',
      '+10 ingest attempt 1 started on w-1',
      '+110 ingest completed in 100ms (attempt 1)',
      '+110 validate attempt 1 queued on queue default (validate-records)',
      '+110 notify skipped: condition is false',
      '+120 validate attempt 1 started on w-2',
      '+170 validate attempt 1 failed: HTTP_500 upstream exploded; retrying in 1.00s',
      '+1170 validate attempt 2 queued on queue default (validate-records)',
      '+1180 validate attempt 2 started on w-1',
      '+1380 validate completed in 200ms (attempt 2)',
      '+1380 export attempt 1 queued on queue io (export)',
      '+1390 export attempt 1 started on w-2',
      '+2390 export attempt 1 timed out after 1.00s',
      '+2390 export failed on attempt 1: TIMEOUT attempt 1 timed out after 1000ms',
      '+2390 run partially completed in 2.39s: STEPS_FAILED 1 step(s) failed: export',
    ]);
  });

  it('describes review and run events too', () => {
    const entry = (fields: Parameters<typeof lifecycleEvent>[4]) => toJournalEntry(lifecycleEvent('r', 1, 0, 0, fields)).entry;
    expect(describeEvent(entry({ type: 'review.decided', status: 'waiting', stepId: 'gate', data: { decision: 'approved' } }))).toBe('review decided for gate: approved');
    expect(describeEvent(entry({ type: 'run.canceled', status: 'canceled', durationMs: 65_000 }))).toBe('run canceled in 1m05s');
    expect(describeEvent(entry({ type: 'run.started', status: 'running', data: { retry: true, reason: 'operator' } }))).toBe(
      'run restarted to retry its unfinished steps: operator',
    );
  });
});

describe('formatMs', () => {
  it('reads well at every scale', () => {
    expect([0, 850, 1250, 42_000, 185_000, 3_725_000].map(formatMs)).toEqual(['0ms', '850ms', '1.25s', '42.0s', '3m05s', '1h02m']);
  });
});
