import type { StepSpec } from '../workflow-spec/spec.schema';
import type { Command } from './events';
import { decide, LEASE_MS, MAX_LOST_LEASES } from './run.machine';
import { retryDelay } from './retry-delay.util';
import { boom, dispatches, emitted, emittedTypes, fatal, RunDriver, workflow } from '../testing';
import { summarize } from './summary.util';

describe('retries', () => {
  it('retries a flaky step with exponential backoff and succeeds on attempt 3', () => {
    const run = new RunDriver(
      workflow([{ id: 'flaky', action: 'work', retry: { maxAttempts: 3, initialInterval: '1s', multiplier: 3, maxInterval: '1m', jitter: false } }]),
    );
    run.start();
    run.started('flaky');
    const first = run.fail('flaky', boom);
    expect(run.step('flaky')).toMatchObject({ status: 'retrying', attempt: 1, nextAttemptAt: run.now + 1000, error: boom });
    expect(first).toContainEqual({ type: 'cancel-timer', timer: 'step-timeout', stepId: 'flaky' });
    expect(first).toContainEqual({ type: 'schedule-timer', timer: 'retry', stepId: 'flaky', attempt: 1, fireAt: run.now + 1000 });
    expect(emitted(first).find((e) => e.type === 'step.retrying')).toMatchObject({ attempt: 1, error: boom, data: { delayMs: 1000, nextAttempt: 2 } });

    const second = run.apply({ type: 'timer.fired', at: run.at(1000), timer: 'retry', stepId: 'flaky', attempt: 1 });
    expect(dispatches(second)).toMatchObject([{ stepId: 'flaky', attempt: 2, token: 'r1:flaky:2' }]);
    run.started('flaky');
    const again = run.fail('flaky', boom);
    expect(again).toContainEqual({ type: 'schedule-timer', timer: 'retry', stepId: 'flaky', attempt: 2, fireAt: run.now + 3000 });

    run.apply({ type: 'timer.fired', at: run.at(3000), timer: 'retry', stepId: 'flaky', attempt: 2 });
    run.run('flaky', 'ok');
    expect(run.state.status).toBe('completed');
    const step = run.step('flaky');
    expect(step).toMatchObject({ status: 'completed', attempt: 3, output: 'ok' });
    expect(step.attempts.map((a) => [a.attempt, a.status, a.error?.code])).toEqual([
      [1, 'failed', 'BOOM'],
      [2, 'failed', 'BOOM'],
      [3, 'completed', undefined],
    ]);
    expect(step.attempts[0]).toMatchObject({ workerId: 'w1' });
    expect(summarize(run.state)).toMatchObject({ attempts: 3, retries: 2, counts: { completed: 1 } });
  });

  it('applies deterministic jitter derived from run, step and attempt', () => {
    const run = new RunDriver(workflow([{ id: 'a', action: 'work', retry: { maxAttempts: 2, initialInterval: '10s' } }]));
    run.start();
    const commands = run.fail('a', boom);
    const timer = commands.find((c): c is Extract<Command, { type: 'schedule-timer' }> => c.type === 'schedule-timer');
    const expected = retryDelay(run.state.plan[0]?.retry ?? fail('no plan'), 1, 'r1:a:1');
    expect(timer?.fireAt).toBe(run.now + expected);
    expect(expected).not.toBe(10_000);
    expect(expected).toBeGreaterThanOrEqual(8_000);
    expect(expected).toBeLessThanOrEqual(12_000);
  });

  it('does not retry non-retryable errors or codes listed in nonRetryable', () => {
    for (const error of [fatal, { code: 'BAD_INPUT', message: 'no' }]) {
      const run = new RunDriver(workflow([{ id: 'a', action: 'work', retry: { maxAttempts: 5, nonRetryable: ['BAD_INPUT'] } }]));
      run.start();
      const commands = run.fail('a', error);
      expect(run.step('a')).toMatchObject({ status: 'failed', error, attempt: 1 });
      // The result is the attempt's only word: it started and failed at the result's time.
      expect(emittedTypes(commands)).toEqual(['step.started:a', 'step.failed:a', 'run.failed']);
      expect(emitted(commands)[1]).toMatchObject({ attempt: 1, error, durationMs: 0 });
    }
  });
});

describe('failure policies', () => {
  const parallel = (onFailure: 'fail-fast' | 'continue'): StepSpec[] => [
    { id: 'a', action: 'work' },
    { id: 'b', action: 'work' },
    { id: 'c', needs: ['a'], action: 'work' },
    { id: 'd', needs: ['c'], action: 'work' },
    { id: 'e', needs: ['b'], action: 'work', retry: { maxAttempts: 2 } },
    { id: 'f', action: 'work', onFailure },
  ];

  it('fail-fast aborts in-flight steps, cancels the rest and fails the run with the step error', () => {
    const run = new RunDriver(workflow(parallel('fail-fast'), { timeout: '1h' }));
    run.start();
    run.started('b');
    const commands = run.fail('a', fatal);
    expect(run.state.status).toBe('failed');
    expect(run.state.error).toMatchObject({ code: 'FATAL', message: 'step a failed: never again' });
    expect(Object.values(run.state.steps).map((s) => [s.id, s.status])).toEqual([
      ['a', 'failed'],
      ['b', 'canceled'],
      ['c', 'canceled'],
      ['d', 'canceled'],
      ['e', 'canceled'],
      ['f', 'canceled'],
    ]);
    // One abort for the whole run, naming the attempts it stops.
    expect(commands.filter((c) => c.type === 'abort-step' || c.type === 'abort-run')).toEqual([
      { type: 'abort-run', reason: 'step a failed', steps: [{ stepId: 'b', attempt: 1, token: 'r1:b:1' }, { stepId: 'f', attempt: 1, token: 'r1:f:1' }] },
    ]);
    expect(commands).toContainEqual({ type: 'cancel-timer', timer: 'step-timeout', stepId: 'b' });
    expect(commands).toContainEqual({ type: 'cancel-timer', timer: 'run-timeout' });
    expect(emittedTypes(commands)).toEqual([
      'step.started:a',
      'step.failed:a',
      'step.canceled:b',
      'step.canceled:c',
      'step.canceled:d',
      'step.canceled:e',
      'step.canceled:f',
      'run.failed',
    ]);
    expect(run.step('b').attempts[0]?.status).toBe('canceled');
    // A late result of an aborted step changes nothing.
    const done = run.state;
    expect(decide(done, { type: 'step.completed', at: run.at(1), stepId: 'b', attempt: 1, token: 'r1:b:1', output: 1 }).state).toBe(done);
  });

  it('continue skips dependents of the failed step, lets the rest finish and ends partially_completed', () => {
    const run = new RunDriver(workflow(parallel('continue'), { onFailure: 'continue' }));
    run.start();
    const commands = run.fail('a', fatal);
    expect(emittedTypes(commands)).toEqual(['step.started:a', 'step.failed:a', 'step.skipped:c', 'step.skipped:d']);
    expect(run.step('c')).toMatchObject({ status: 'skipped', reason: 'upstream failed: a' });
    expect(run.step('d')).toMatchObject({ status: 'skipped', reason: 'upstream skipped: c' });
    expect(run.state.status).toBe('running');
    run.run('b');
    run.run('e');
    run.run('f');
    expect(run.state.status).toBe('partially_completed');
    expect(run.state.error).toMatchObject({ code: 'STEPS_FAILED' });
    expect(emittedTypes(run.last).at(-1)).toBe('run.partially_completed');
  });

  it('continue with nothing completed fails the run', () => {
    const run = new RunDriver(workflow([{ id: 'a', action: 'work' }, { id: 'b', needs: ['a'], action: 'work' }], { onFailure: 'continue' }));
    run.start();
    run.fail('a', fatal);
    expect(run.state.status).toBe('failed');
    expect(run.state.error?.code).toBe('STEPS_FAILED');
  });

  it("uses the step's own onFailure over the workflow's", () => {
    const run = new RunDriver(workflow(parallel('continue')));
    run.start();
    run.fail('f', fatal);
    expect(run.state.status).toBe('running');
    run.fail('a', fatal);
    expect(run.state.status).toBe('failed');
  });
});

describe('timeouts and leases', () => {
  it('fails a timed-out attempt with TIMEOUT, aborts it and retries per policy', () => {
    const run = new RunDriver(workflow([{ id: 'a', action: 'work', timeout: '30s', retry: { maxAttempts: 2, jitter: false } }]));
    run.start();
    run.started('a');
    const startedAt = run.now;
    const early = run.state;
    expect(decide(early, { type: 'timer.fired', at: startedAt + 30_000, timer: 'step-timeout', stepId: 'a', attempt: 2 }).state).toBe(early);
    const commands = run.apply({ type: 'timer.fired', at: startedAt + 30_000, timer: 'step-timeout', stepId: 'a', attempt: 1 });
    expect(commands).toContainEqual({ type: 'abort-step', stepId: 'a', attempt: 1, token: 'r1:a:1', reason: 'timed out' });
    expect(commands.some((c) => c.type === 'cancel-timer' && c.timer === 'step-timeout')).toBe(false);
    expect(emittedTypes(commands)).toEqual(['step.timed_out:a', 'step.retrying:a']);
    expect(run.step('a')).toMatchObject({ status: 'retrying', error: { code: 'TIMEOUT', retryable: true } });
    run.apply({ type: 'timer.fired', at: run.at(1000), timer: 'retry', stepId: 'a', attempt: 1 });
    run.started('a');
    run.apply({ type: 'timer.fired', at: run.at(30_000), timer: 'step-timeout', stepId: 'a', attempt: 2 });
    expect(run.step('a')).toMatchObject({ status: 'failed', error: { code: 'TIMEOUT' } });
    expect(run.state.status).toBe('failed');
  });

  it('re-sends a dispatch nobody took, same attempt and token, backing off, without failing the step', () => {
    const run = new RunDriver(workflow([{ id: 'a', action: 'work', with: { n: 1 } }]));
    run.start();
    const notYet = run.state;
    expect(decide(notYet, { type: 'timer.fired', at: run.at(LEASE_MS - 1), timer: 'lease', stepId: 'a', attempt: 1 }).state).toBe(notYet);
    for (let resend = 1; resend <= 8; resend++) {
      const commands = run.apply({ type: 'timer.fired', at: run.at((run.step('a').leaseExpiresAt ?? 0) - run.at()), timer: 'lease', stepId: 'a', attempt: 1 });
      expect(commands).toEqual([
        { type: 'dispatch', stepId: 'a', attempt: 1, token: 'r1:a:1', action: 'work', input: { n: 1 }, queue: 'default', timeoutMs: 600_000, resend },
      ]);
      // The wait doubles each time, up to 64 leases.
      expect(run.step('a')).toMatchObject({ status: 'queued', attempt: 1, resent: resend, leaseExpiresAt: run.at() + LEASE_MS * 2 ** Math.min(resend, 6) });
    }
    run.started('a');
    run.complete('a', { ok: true });
    expect(run.state.status).toBe('completed');
  });

  it('re-dispatches a started step whose lease expired without consuming the retry budget, then gives up with WORKER_LOST', () => {
    const run = new RunDriver(workflow([{ id: 'a', action: 'work' }]));
    run.start();
    run.started('a');
    const notYet = run.state;
    expect(decide(notYet, { type: 'timer.fired', at: run.at(LEASE_MS - 1), timer: 'lease', stepId: 'a', attempt: 1 }).state).toBe(notYet);
    for (let lost = 1; lost <= MAX_LOST_LEASES; lost++) {
      if (lost > 1) run.started('a');
      const commands = run.apply({ type: 'timer.fired', at: run.at(LEASE_MS), timer: 'lease', stepId: 'a', attempt: lost });
      expect(commands).toContainEqual({ type: 'abort-step', stepId: 'a', attempt: lost, token: `r1:a:${lost}`, reason: 'lease expired' });
      expect(dispatches(commands)).toMatchObject([{ stepId: 'a', attempt: lost + 1 }]);
      expect(run.step('a')).toMatchObject({ status: 'queued', attempt: lost + 1, lostLeases: lost });
    }
    run.started('a');
    run.apply({ type: 'timer.fired', at: run.at(LEASE_MS), timer: 'lease', stepId: 'a', attempt: 4 });
    expect(run.step('a')).toMatchObject({ status: 'failed', attempt: 4, error: { code: 'WORKER_LOST', retryable: false } });
    expect(run.state.status).toBe('failed');
  });

  it('treats step.lost like an expired lease, at once, and ignores it for another attempt', () => {
    const run = new RunDriver(workflow([{ id: 'a', action: 'work', timeout: '1h' }]));
    run.start();
    run.started('a');
    const before = run.state;
    expect(decide(before, { type: 'step.lost', at: run.at(1), stepId: 'a', attempt: 2 }).state).toBe(before);
    const commands = run.apply({ type: 'step.lost', at: run.at(1), stepId: 'a', attempt: 1 });
    expect(dispatches(commands)).toMatchObject([{ stepId: 'a', attempt: 2 }]);
    expect(run.step('a')).toMatchObject({ status: 'queued', attempt: 2, lostLeases: 1 });
  });

  it('counts only non-lost attempts against maxAttempts', () => {
    const run = new RunDriver(workflow([{ id: 'a', action: 'work', retry: { maxAttempts: 2, jitter: false } }]));
    run.start();
    run.started('a');
    run.apply({ type: 'timer.fired', at: run.at(LEASE_MS), timer: 'lease', stepId: 'a', attempt: 1 });
    run.fail('a', boom);
    expect(run.step('a')).toMatchObject({ status: 'retrying', attempt: 2 });
    run.apply({ type: 'timer.fired', at: run.at(1000), timer: 'retry', stepId: 'a', attempt: 2 });
    run.fail('a', boom);
    expect(run.step('a')).toMatchObject({ status: 'failed', attempt: 3 });
  });

  it('keeps a heartbeating step alive past its first lease', () => {
    const run = new RunDriver(workflow([{ id: 'a', action: 'work' }]));
    run.start();
    run.started('a');
    const token = run.step('a').token ?? '';
    run.apply({ type: 'step.heartbeat', at: run.at(LEASE_MS - 1), stepId: 'a', attempt: 1, token });
    const alive = run.state;
    expect(decide(alive, { type: 'timer.fired', at: run.at(LEASE_MS - 1), timer: 'lease', stepId: 'a', attempt: 1 }).state).toBe(alive);
  });

  it('fails the run with RUN_TIMEOUT when the run deadline passes, aborting in-flight steps', () => {
    const run = new RunDriver(
      workflow([{ id: 'a', action: 'work' }, { id: 'b', action: 'work', retry: { maxAttempts: 2 } }, { id: 'c', needs: ['a'], action: 'work' }], {
        timeout: '5m',
      }),
    );
    const start = run.start();
    const deadline = run.now + 300_000;
    expect(start).toContainEqual({ type: 'schedule-timer', timer: 'run-timeout', fireAt: deadline });
    run.started('a');
    run.fail('b', boom);
    const early = run.state;
    expect(decide(early, { type: 'timer.fired', at: deadline - 1, timer: 'run-timeout' }).state).toBe(early);
    const commands = run.apply({ type: 'timer.fired', at: deadline, timer: 'run-timeout' });
    expect(run.state).toMatchObject({ status: 'failed', error: { code: 'RUN_TIMEOUT' }, finishedAt: deadline });
    expect(commands).toContainEqual({ type: 'abort-run', reason: 'run timed out', steps: [{ stepId: 'a', attempt: 1, token: 'r1:a:1' }] });
    expect(commands).toContainEqual({ type: 'cancel-timer', timer: 'retry', stepId: 'b' });
    expect(commands.some((c) => c.type === 'cancel-timer' && c.timer === 'run-timeout')).toBe(false);
    expect(emittedTypes(commands)).toEqual(['step.canceled:a', 'step.canceled:b', 'step.canceled:c', 'run.failed']);
  });
});

function fail(message: string): never {
  throw new Error(message);
}
