import { RunDriver, workflow } from '../testing';
import { stepView, summarize, summaryToJson } from './summary.util';

describe('summarize', () => {
  it('counts statuses, attempts and retries and reports each step with numeric times', () => {
    const run = new RunDriver(
      workflow(
        [
          { id: 'a', action: 'work', retry: { maxAttempts: 2, jitter: false } },
          { id: 'b', needs: ['a'], action: 'work', if: 'false' },
          { id: 'c', action: 'work' },
          { id: 'd', needs: ['c'], action: 'work' },
        ],
        { onFailure: 'continue', outputs: { a: '${{ steps.a.output }}' } },
      ),
    );
    const t0 = run.now;
    run.start();
    run.started('a');
    run.fail('a', { code: 'E', message: 'flaky' });
    run.apply({ type: 'timer.fired', at: run.at(1_000), timer: 'retry', stepId: 'a', attempt: 1 });
    run.run('a', 'A');
    run.started('c');
    run.fail('c', { code: 'F', message: 'down', retryable: false });

    const summary = summarize(run.state);
    expect(summary).toMatchObject({
      runId: 'r1',
      workflow: 'test-flow',
      version: 'v1',
      status: 'partially_completed',
      createdAt: t0,
      startedAt: t0,
      finishedAt: run.now,
      durationMs: run.now - t0,
      attempts: 3,
      retries: 1,
      outputs: { a: 'A' },
      error: { code: 'STEPS_FAILED' },
    });
    expect(summary.counts).toEqual({ pending: 0, queued: 0, running: 0, retrying: 0, completed: 1, failed: 1, skipped: 2, canceled: 0, waiting: 0, partially_completed: 0 });
    const [a, b, c, d] = summary.steps;
    expect(a).toEqual({ id: 'a', status: 'completed', attempts: 2, startedAt: t0 + 10, finishedAt: t0 + 1_040, durationMs: 1_030, output: 'A' });
    expect(b).toEqual({ id: 'b', status: 'skipped', attempts: 0, finishedAt: t0 + 1_040, reason: 'condition is false' });
    expect(c).toMatchObject({ id: 'c', status: 'failed', attempts: 1, error: { code: 'F', message: 'down', retryable: false } });
    expect(d).toMatchObject({ id: 'd', status: 'skipped', reason: 'upstream failed: c' });
  });

  it('leaves durations out while a run is going and formats times as ISO strings', () => {
    const run = new RunDriver(workflow([{ id: 'a', action: 'work' }]), {}, Date.UTC(2026, 0, 2, 3, 4, 5));
    run.start();
    const summary = summarize(run.state);
    expect(summary.durationMs).toBeUndefined();
    expect(summary.counts.queued).toBe(1);
    const json = summaryToJson(summary);
    expect(json).toMatchObject({ createdAt: '2026-01-02T03:04:05.000Z', startedAt: '2026-01-02T03:04:05.000Z', status: 'running' });
    expect(json.steps[0]).toEqual({ id: 'a', status: 'queued', attempts: 1, startedAt: '2026-01-02T03:04:05.000Z' });
    expect(json).not.toHaveProperty('finishedAt');
  });
});

describe('stepView', () => {
  it('shows a step as the API and `weft run --json` do: ISO times from the first attempt, nulls for what is absent', () => {
    const run = new RunDriver(workflow([{ id: 'a', action: 'work', retry: { maxAttempts: 2, jitter: false } }, { id: 'b', needs: ['a'], action: 'work' }]), {}, Date.UTC(2026, 0, 2, 3, 4, 5));
    run.start();
    run.started('a');
    run.fail('a', { code: 'E', message: 'flaky', retryable: true });
    run.apply({ type: 'timer.fired', at: run.at(1_000), timer: 'retry', stepId: 'a', attempt: 1 });
    run.run('a', 'A');
    const first = run.state.steps.a.attempts[0].startedAt ?? 0;
    expect(stepView(run.state, 'a')).toEqual({
      id: 'a',
      status: 'completed',
      attempts: 2,
      startedAt: new Date(first).toISOString(),
      finishedAt: new Date(run.state.steps.a.finishedAt ?? 0).toISOString(),
      durationMs: (run.state.steps.a.finishedAt ?? 0) - first,
      output: 'A',
      error: null,
    });
    expect(stepView(run.state, 'b')).toMatchObject({ id: 'b', status: 'queued', attempts: 1, finishedAt: null, durationMs: null, output: null, error: null });
    expect(stepView(run.state, 'nope')).toEqual({ id: 'nope', status: 'pending', attempts: 0, startedAt: null, finishedAt: null, durationMs: null, output: null, error: null });
  });
});
