import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { decide } from './run.machine';
import { stepIn } from './steps-record.util';
import { boom, deepFreeze, diamond, dispatches, emittedTypes, RunDriver, workflow } from '../testing';
import { summarize } from './summary.util';

describe('run.cancel', () => {
  it('cancels everything, aborts in-flight steps, and wins over late results', () => {
    const run = new RunDriver(
      workflow([{ id: 'a', action: 'work' }, { id: 'b', action: 'work', retry: { maxAttempts: 3 } }, { id: 'c', needs: ['a', 'b'], action: 'work' }], {
        timeout: '1h',
      }),
    );
    run.start();
    run.started('a');
    run.fail('b', boom);
    const commands = run.apply({ type: 'run.cancel', at: run.at(5), reason: 'user said so' });
    expect(run.state).toMatchObject({ status: 'canceled', error: { code: 'CANCELED', message: 'user said so' } });
    expect(commands).toEqual(
      expect.arrayContaining([
        { type: 'abort-run', reason: 'user said so', steps: [{ stepId: 'a', attempt: 1, token: 'r1:a:1' }] },
        { type: 'cancel-timer', timer: 'step-timeout', stepId: 'a' },
        { type: 'cancel-timer', timer: 'retry', stepId: 'b' },
        { type: 'cancel-timer', timer: 'run-timeout' },
      ]),
    );
    expect(emittedTypes(commands)).toEqual(['step.canceled:a', 'step.canceled:b', 'step.canceled:c', 'run.canceled']);
    const done = deepFreeze(run.state);
    for (const event of [
      { type: 'step.completed', at: run.at(9), stepId: 'a', attempt: 1, token: 'r1:a:1', output: 1 },
      { type: 'timer.fired', at: run.at(9), timer: 'retry', stepId: 'b', attempt: 1 },
      { type: 'run.cancel', at: run.at(9) },
      { type: 'run.start', at: run.at(9) },
    ] as const) {
      expect(decide(done, event)).toEqual({ state: done, commands: [] });
    }
  });

  it('cancels a run that never started', () => {
    const run = new RunDriver(workflow(diamond()));
    run.apply({ type: 'run.cancel', at: run.at(1) });
    expect(run.state.status).toBe('canceled');
    expect(Object.values(run.state.steps).every((s) => s.status === 'canceled')).toBe(true);
  });
});

describe('run.retry', () => {
  it('re-runs failed and skipped steps with fresh budgets and continuing attempt numbers', () => {
    const run = new RunDriver(
      workflow([
        { id: 'a', action: 'work' },
        { id: 'b', needs: ['a'], action: 'work', retry: { maxAttempts: 2, jitter: false } },
        { id: 'c', needs: ['b'], action: 'work' },
      ]),
    );
    run.start();
    run.run('a', 1);
    run.fail('b', boom);
    run.apply({ type: 'timer.fired', at: run.at(1000), timer: 'retry', stepId: 'b', attempt: 1 });
    run.fail('b', boom);
    expect(run.state.status).toBe('failed');
    const failed = run.state;
    expect(decide(failed, { type: 'run.start', at: run.at(1) }).state).toBe(failed);

    const commands = run.apply({ type: 'run.retry', at: run.at(100) });
    expect(run.state.status).toBe('running');
    expect(run.state.error).toBeUndefined();
    expect(emittedTypes(commands)).toEqual(['run.started', 'step.queued:b']);
    expect(dispatches(commands)).toMatchObject([{ stepId: 'b', attempt: 3, token: 'r1:b:3' }]);
    expect(run.step('a')).toMatchObject({ status: 'completed', attempt: 1, output: 1 });
    // A fresh budget: b may fail once more and still be retried.
    run.fail('b', boom);
    expect(run.step('b').status).toBe('retrying');
    run.apply({ type: 'timer.fired', at: run.at(1000), timer: 'retry', stepId: 'b', attempt: 3 });
    run.run('b', 2);
    run.run('c', 3);
    expect(run.state.status).toBe('completed');
    expect(summarize(run.state)).toMatchObject({ attempts: 6, retries: 3 });
    const completed = run.state;
    expect(decide(completed, { type: 'run.retry', at: run.at(1) }).state).toBe(completed);
  });

  it('is a no-op on a running run', () => {
    const run = new RunDriver(workflow(diamond()));
    run.start();
    const running = run.state;
    expect(decide(running, { type: 'run.retry', at: run.at(1) }).state).toBe(running);
  });
});

describe('run.cancel of a big run', () => {
  it("cancels its untouched steps into one value shape: equal to the spread of any other step, and sharing one hidden class", () => {
    const steps = Array.from({ length: 300 }, (_, i) => ({ id: `s${i}`, action: 'work' }));
    const run = new RunDriver(workflow(steps, { maxStepsInFlight: 4 }));
    run.start();
    run.started('s0');
    run.apply({ type: 'run.cancel', at: run.at(5), reason: 'enough' });
    const canceled = steps.map(({ id }) => stepIn(run.state.steps, id));
    const at = run.state.finishedAt;
    // Keys in the order the spread of an untouched step gives them.
    expect(Object.keys(canceled[200] ?? {})).toEqual(['id', 'status', 'attempt', 'attempts', 'lostLeases', 'attemptBase', 'reason', 'finishedAt']);
    expect(canceled[200]).toStrictEqual({ id: 's200', status: 'canceled', attempt: 0, attempts: [], lostLeases: 0, attemptBase: 0, reason: 'enough', finishedAt: at });
    expect(canceled[0]).toMatchObject({ status: 'canceled', attempt: 1, attempts: [{ status: 'canceled' }] });
    // A spread met by steps of many shapes gives each object a map of its own (V8): every later read of them is slow.
    setFlagsFromString('--allow-natives-syntax');
    try {
      const sameMap = runInNewContext('(a, b) => %HaveSameMap(a, b)') as (a: unknown, b: unknown) => boolean;
      expect(canceled.slice(10).every((step) => sameMap(step, canceled[10]))).toBe(true);
    } finally {
      setFlagsFromString('--no-allow-natives-syntax');
    }
  });
});
