import type { StepSpec } from '../workflow-spec/spec.schema';
import type { Command } from './events';
import { createRun, decide, LEASE_MS, MAX_LOST_LEASES } from './run.machine';
import { retryDelay } from './retry-delay.util';
import { deepFreeze, dispatchedIds, dispatches, emitted, emittedTypes, RunDriver, workflow } from '../testing';
import { summarize } from './summary.util';

const boom = { code: 'BOOM', message: 'it broke' };
const fatal = { code: 'FATAL', message: 'never again', retryable: false };

const diamond = (): StepSpec[] => [
  { id: 'a', action: 'noop' },
  { id: 'b', needs: ['a'], action: 'work', with: { n: '${{ steps.a.output.x + 1 }}' } },
  { id: 'c', needs: ['a'], action: 'work', with: { label: 'c of ${{ inputs.name }}' } },
  { id: 'd', needs: ['b', 'c'], action: 'work', with: { sum: '${{ steps.b.output.v + steps.c.output.v }}' } },
];

describe('createRun and run.start', () => {
  it('creates a queued run with every step pending and emits run.queued', () => {
    const { state, commands } = createRun({ runId: 'r1', spec: workflow(diamond()), version: 'v1', inputs: {}, at: 5, correlationId: 'c1' });
    expect(state.status).toBe('queued');
    expect(Object.values(state.steps).map((s) => s.status)).toEqual(['pending', 'pending', 'pending', 'pending']);
    expect(state).toMatchObject({ runId: 'r1', workflow: 'test-flow', version: 'v1', createdAt: 5, correlationId: 'c1', seq: 0 });
    expect(emittedTypes(commands)).toEqual(['run.queued']);
  });

  it('starts the run and dispatches only the roots, with tokens and leases', () => {
    const run = new RunDriver(workflow(diamond()));
    const commands = run.start();
    expect(run.state.status).toBe('running');
    expect(emittedTypes(commands)).toEqual(['run.started', 'step.queued:a']);
    expect(dispatches(commands)).toEqual([
      { type: 'dispatch', stepId: 'a', attempt: 1, token: 'r1:a:1', action: 'noop', input: {}, queue: 'default', timeoutMs: 600_000 },
    ]);
    expect(run.step('a')).toMatchObject({ status: 'queued', attempt: 1, token: 'r1:a:1', queuedAt: run.now, leaseExpiresAt: run.now + LEASE_MS });
    expect(run.state.seq).toBe(1);
    // A second start changes nothing.
    const before = run.state;
    expect(run.start()).toEqual([]);
    expect(run.state).toBe(before);
  });
});

describe('results', () => {
  it('runs a diamond, passing outputs downstream with int arithmetic, and renders outputs', () => {
    const run = new RunDriver(workflow(diamond(), { outputs: { total: '${{ steps.d.output.total }}', twice: '${{ steps.a.output.x * 2 }}' } }), {
      name: 'weft',
    });
    run.start();
    const started = run.started('a');
    expect(run.step('a')).toMatchObject({ status: 'running', startedAt: run.now, leaseExpiresAt: run.now + LEASE_MS });
    expect(started).toContainEqual({ type: 'schedule-timer', timer: 'step-timeout', stepId: 'a', attempt: 1, fireAt: run.now + 600_000 });
    const afterA = run.complete('a', { x: 41 });
    expect(afterA[0]).toEqual({ type: 'cancel-timer', timer: 'step-timeout', stepId: 'a' });
    expect(emitted(afterA).find((e) => e.type === 'step.completed')).toMatchObject({ stepId: 'a', durationMs: 10, data: { output: { x: 41 } } });
    expect(dispatches(afterA).map((d) => [d.stepId, d.input])).toEqual([
      ['b', { n: 42 }],
      ['c', { label: 'c of weft' }],
    ]);
    run.run('b', { v: 2 });
    expect(dispatchedIds(run.last)).toEqual([]);
    const afterC = run.run('c', { v: 3 });
    expect(dispatches(afterC).map((d) => [d.stepId, d.input])).toEqual([['d', { sum: 5 }]]);
    const last = run.run('d', { total: 7 });
    expect(run.state.status).toBe('completed');
    expect(run.state.outputs).toEqual({ total: 7, twice: 82 });
    expect(emittedTypes(last)).toEqual(['step.completed:d', 'run.completed']);
    expect(emitted(last)[1]).toMatchObject({ status: 'completed', durationMs: run.now - (run.state.startedAt ?? 0), data: { outputs: { total: 7, twice: 82 } } });
    expect(run.state.finishedAt).toBe(run.now);
  });

  it('evaluates a transform step: bare or wrapped `with.expr` becomes input.value', () => {
    const run = new RunDriver(
      workflow([
        { id: 'a', action: 'noop' },
        { id: 't', needs: ['a'], action: 'transform', with: { expr: 'steps.a.output.rows.map(r, r.id)' } },
        { id: 'u', needs: ['a'], action: 'transform', with: { expr: '${{ size(steps.a.output.rows) + 1 }}' } },
      ]),
    );
    run.start();
    const commands = run.run('a', { rows: [{ id: 7 }, { id: 9 }] });
    expect(dispatches(commands).map((d) => [d.stepId, d.input])).toEqual([
      ['t', { value: [7, 9] }],
      ['u', { value: 3 }],
    ]);
  });

  it('ignores stale, wrong-token and duplicate results: same state object, no commands', () => {
    const run = new RunDriver(workflow([{ id: 'a', action: 'noop', retry: { maxAttempts: 2, jitter: false } }, { id: 'b', action: 'noop' }]));
    run.start();
    run.started('a');
    run.fail('a', boom);
    run.apply({ type: 'timer.fired', at: run.at(1000), timer: 'retry', stepId: 'a', attempt: 1 });
    expect(run.step('a')).toMatchObject({ status: 'queued', attempt: 2 });
    const state = deepFreeze(run.state);
    const stale = [
      { type: 'step.completed', at: run.at(1), stepId: 'a', attempt: 1, token: 'r1:a:1', output: {} },
      { type: 'step.failed', at: run.at(1), stepId: 'a', attempt: 1, token: 'r1:a:1', error: boom },
      { type: 'step.started', at: run.at(1), stepId: 'a', attempt: 1, token: 'r1:a:1' },
      { type: 'step.heartbeat', at: run.at(1), stepId: 'a', attempt: 1, token: 'r1:a:1' },
      { type: 'step.completed', at: run.at(1), stepId: 'a', attempt: 2, token: 'forged', output: {} },
      { type: 'step.completed', at: run.at(1), stepId: 'nope', attempt: 1, token: 'r1:nope:1', output: {} },
      { type: 'timer.fired', at: run.at(1), timer: 'retry', stepId: 'a', attempt: 1 },
      { type: 'timer.fired', at: run.at(1), timer: 'step-timeout', stepId: 'a', attempt: 1 },
    ] as const;
    for (const event of stale) expect(decide(state, event)).toEqual({ state, commands: [] });
    for (const event of stale) expect(decide(state, event).state).toBe(state);

    run.complete('b', { ok: true });
    const afterB = run.state;
    expect(decide(afterB, { type: 'step.completed', at: run.at(5), stepId: 'b', attempt: 1, token: 'r1:b:1', output: { ok: false } }).state).toBe(afterB);
  });

  it('bumps seq on every change and never mutates the input', () => {
    const run = new RunDriver(workflow(diamond()), { name: 'n' });
    deepFreeze(run.state);
    run.start();
    deepFreeze(run.state);
    run.started('a');
    deepFreeze(run.state);
    run.complete('a', { x: 1 });
    expect(run.state.seq).toBe(3);
    expect(run.state.status).toBe('running');
    deepFreeze(run.state);
    run.apply({ type: 'run.cancel', at: run.at(1) });
    expect(run.state).toMatchObject({ seq: 4, status: 'canceled' });
  });

  it('extends the lease on heartbeat without emitting', () => {
    const run = new RunDriver(workflow([{ id: 'a', action: 'noop' }]));
    run.start();
    run.started('a');
    const s = run.step('a');
    const commands = run.apply({ type: 'step.heartbeat', at: run.at(30_000), stepId: 'a', attempt: 1, token: s.token ?? '' });
    expect(commands).toEqual([]);
    expect(run.step('a').leaseExpiresAt).toBe(run.now + LEASE_MS);
  });
});

describe('a result for an attempt still queued (no started heartbeat)', () => {
  const twoSteps = (): StepSpec[] => [
    { id: 'a', action: 'work', retry: { maxAttempts: 2 } },
    { id: 'b', needs: ['a'], action: 'work' },
  ];
  const complete = (run: RunDriver, at: number): Command[] =>
    run.apply({ type: 'step.completed', at, stepId: 'a', attempt: 1, token: 'r1:a:1', output: { v: 1 }, workerId: 'w9' });

  it('starts and completes it at the result time: step.started, then step.completed, no step-timeout timer', () => {
    const run = new RunDriver(workflow(twoSteps()));
    run.start();
    const at = run.at(7);
    const commands = complete(run, at);
    expect(emittedTypes(commands)).toEqual(['step.started:a', 'step.completed:a', 'step.queued:b']);
    const [started, completed] = emitted(commands);
    expect(started).toEqual({ type: 'step.started', at, stepId: 'a', attempt: 1, status: 'running', data: { workerId: 'w9' } });
    expect(completed).toMatchObject({ type: 'step.completed', at, attempt: 1, status: 'completed', durationMs: 0, data: { output: { v: 1 } } });
    expect(commands.filter((c) => c.type === 'schedule-timer' || c.type === 'cancel-timer')).toEqual([]);
    expect(run.step('a')).toMatchObject({ status: 'completed', startedAt: at, finishedAt: at, output: { v: 1 } });
    expect(run.step('a')).not.toHaveProperty('leaseExpiresAt');
    expect(run.step('a').attempts).toEqual([{ attempt: 1, status: 'completed', dispatchedAt: run.state.startedAt, startedAt: at, finishedAt: at, workerId: 'w9' }]);
    expect(run.state.seq).toBe(2);
  });

  it('ends in the same step state and events as a started heartbeat and a result applied at the same time', () => {
    const oneMessage = new RunDriver(workflow(twoSteps()));
    oneMessage.start();
    const at = oneMessage.at(5);
    const merged = complete(oneMessage, at);
    const twoMessages = new RunDriver(workflow(twoSteps()));
    twoMessages.start();
    const separate = [
      ...twoMessages.apply({ type: 'step.started', at, stepId: 'a', attempt: 1, token: 'r1:a:1', workerId: 'w9' }),
      ...complete(twoMessages, at),
    ];
    expect(oneMessage.state.steps).toEqual(twoMessages.state.steps);
    expect(emitted(merged)).toEqual(emitted(separate));
  });

  it('starts and fails it; a retryable failure retries with only the retry timer', () => {
    const run = new RunDriver(workflow(twoSteps()));
    run.start();
    const at = run.at(3);
    const commands = run.apply({ type: 'step.failed', at, stepId: 'a', attempt: 1, token: 'r1:a:1', error: boom, workerId: 'w9' });
    expect(emittedTypes(commands)).toEqual(['step.started:a', 'step.retrying:a']);
    expect(commands.filter((c) => c.type === 'schedule-timer' || c.type === 'cancel-timer')).toEqual([
      expect.objectContaining({ type: 'schedule-timer', timer: 'retry', stepId: 'a', attempt: 1 }),
    ]);
    expect(run.step('a')).toMatchObject({ status: 'retrying', startedAt: at, error: boom });
    expect(run.step('a').attempts[0]).toMatchObject({ status: 'failed', startedAt: at, finishedAt: at, workerId: 'w9' });
  });

  it('ignores a wrong token, then a duplicate result, then the late started heartbeat', () => {
    const run = new RunDriver(workflow(twoSteps()));
    run.start();
    const queued = run.state;
    expect(decide(queued, { type: 'step.completed', at: run.at(1), stepId: 'a', attempt: 1, token: 'r1:a:1x', output: 1 }).state).toBe(queued);
    expect(decide(queued, { type: 'step.completed', at: run.at(1), stepId: 'a', attempt: 2, token: 'r1:a:2', output: 1 }).state).toBe(queued);
    complete(run, run.at(2));
    const done = run.state;
    expect(decide(done, { type: 'step.completed', at: run.at(3), stepId: 'a', attempt: 1, token: 'r1:a:1', output: 2 })).toEqual({ state: done, commands: [] });
    expect(decide(done, { type: 'step.started', at: run.at(3), stepId: 'a', attempt: 1, token: 'r1:a:1', workerId: 'w9' })).toEqual({ state: done, commands: [] });
  });

  it('a cancel before any word from the attempt still aborts it on the executors', () => {
    const run = new RunDriver(workflow(twoSteps()));
    run.start();
    const commands = run.apply({ type: 'run.cancel', at: run.at(1), reason: 'stop' });
    expect(commands).toContainEqual({ type: 'abort-step', stepId: 'a', attempt: 1, token: 'r1:a:1', reason: 'stop' });
    // Its result, arriving after, is ignored.
    const canceled = run.state;
    expect(complete(run, run.at(2))).toEqual([]);
    expect(run.state).toBe(canceled);
  });
});

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
    expect(commands.filter((c) => c.type === 'abort-step')).toEqual([
      { type: 'abort-step', stepId: 'b', attempt: 1, token: 'r1:b:1', reason: 'step a failed' },
      { type: 'abort-step', stepId: 'f', attempt: 1, token: 'r1:f:1', reason: 'step a failed' },
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

describe('conditions and expressions', () => {
  it('skips a step whose if is false, and cascades to its dependents', () => {
    const run = new RunDriver(
      workflow(
        [
          { id: 'a', action: 'work' },
          { id: 'b', needs: ['a'], action: 'work', if: '${{ steps.a.output.count > 10 }}' },
          { id: 'c', needs: ['b'], action: 'work' },
          { id: 'd', needs: ['a'], action: 'work', if: "steps.a.status == 'completed' && inputs.go" },
        ],
        { outputs: { d: '${{ steps.d.output }}' } },
      ),
      { go: true },
    );
    run.start();
    const commands = run.run('a', { count: 3 });
    // Dependents are checked breadth-first: d (a's) before c (b's).
    expect(emittedTypes(commands)).toEqual(['step.completed:a', 'step.skipped:b', 'step.queued:d', 'step.skipped:c']);
    expect(run.step('b')).toMatchObject({ status: 'skipped', reason: 'condition is false' });
    expect(run.step('c')).toMatchObject({ status: 'skipped', reason: 'upstream skipped: b' });
    run.run('d', 'dd');
    expect(run.state.status).toBe('completed');
    expect(run.state.outputs).toEqual({ d: 'dd' });
    expect(summarize(run.state).counts).toMatchObject({ completed: 2, skipped: 2 });
  });

  it('lets a join with its own if decide about a skipped branch (if/else then join)', () => {
    const run = new RunDriver(
      workflow([
        { id: 'a', action: 'work' },
        { id: 'yes', needs: ['a'], action: 'work', if: 'steps.a.output.go' },
        { id: 'no', needs: ['a'], action: 'work', if: '!steps.a.output.go' },
        { id: 'plain', needs: ['yes', 'no'], action: 'work' },
        { id: 'join', needs: ['yes', 'no'], action: 'work', if: "steps.yes.status == 'completed' || steps.no.status == 'completed'" },
      ]),
    );
    run.start();
    run.run('a', { go: false });
    expect(run.step('yes').status).toBe('skipped');
    // Without an if, a skipped need still skips; the join waits for 'no' to finish.
    expect(run.step('plain')).toMatchObject({ status: 'skipped', reason: 'upstream skipped: yes' });
    expect(run.step('join').status).toBe('pending');
    run.run('no', {});
    expect(run.step('join').status).toBe('queued');
    run.run('join', {});
    expect(run.state.status).toBe('completed');
  });

  it('still skips a join with an if when a need failed under continue', () => {
    const run = new RunDriver(
      workflow(
        [
          { id: 'a', action: 'work' },
          { id: 'join', needs: ['a'], action: 'work', if: 'true' },
        ],
        { onFailure: 'continue' },
      ),
    );
    run.start();
    run.fail('a', fatal);
    expect(run.step('join')).toMatchObject({ status: 'skipped', reason: 'upstream failed: a' });
  });

  it('fails a step with EXPRESSION_ERROR when its if or with cannot be evaluated', () => {
    const run = new RunDriver(
      workflow(
        [
          { id: 'a', action: 'work' },
          { id: 'b', needs: ['a'], action: 'work', if: 'steps.a.output.missing > 1' },
          { id: 'c', needs: ['a'], action: 'work', with: { v: '${{ steps.a.output.nope.deeper }}' } },
          { id: 'd', needs: ['a'], action: 'work', if: 'steps.a.output.n' },
          { id: 'e', needs: ['a'], action: 'work', retry: { maxAttempts: 3 } },
        ],
        { onFailure: 'continue' },
      ),
    );
    run.start();
    run.run('a', { n: 1 });
    for (const id of ['b', 'c', 'd']) {
      expect(run.step(id)).toMatchObject({ status: 'failed', attempt: 0, error: { code: 'EXPRESSION_ERROR', retryable: false } });
    }
    expect(dispatchedIds(run.last)).toEqual(['e']);
  });

  it('renders outputs and fails the run with OUTPUT_ERROR when they cannot be rendered', () => {
    const ok = new RunDriver(workflow([{ id: 'a', action: 'work' }], { outputs: { n: '${{ steps.a.output.n + 1 }}', fixed: 'x', list: ['${{ inputs.k }}'] } }), {
      k: 'v',
    });
    ok.start();
    ok.run('a', { n: 1 });
    expect(ok.state.outputs).toEqual({ n: 2, fixed: 'x', list: ['v'] });

    const bad = new RunDriver(workflow([{ id: 'a', action: 'work' }], { outputs: { n: '${{ steps.a.output.nope }}' } }));
    bad.start();
    const commands = bad.run('a', {});
    expect(bad.state.status).toBe('failed');
    expect(bad.state.error).toMatchObject({ code: 'OUTPUT_ERROR' });
    expect(emittedTypes(commands).at(-1)).toBe('run.failed');
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
    expect(commands).toContainEqual({ type: 'abort-step', stepId: 'a', attempt: 1, token: 'r1:a:1', reason: 'run timed out' });
    expect(commands).toContainEqual({ type: 'cancel-timer', timer: 'retry', stepId: 'b' });
    expect(commands.some((c) => c.type === 'cancel-timer' && c.timer === 'run-timeout')).toBe(false);
    expect(emittedTypes(commands)).toEqual(['step.canceled:a', 'step.canceled:b', 'step.canceled:c', 'run.failed']);
  });
});

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
        { type: 'abort-step', stepId: 'a', attempt: 1, token: 'r1:a:1', reason: 'user said so' },
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

describe('wide DAGs', () => {
  it('processes a 1 -> 1000 -> 1 fan-out event by event quickly', () => {
    const width = 1000;
    const middle: StepSpec[] = Array.from({ length: width }, (_, i) => ({ id: `m${i}`, needs: ['root'], action: 'work', with: { i } }));
    const run = new RunDriver(
      workflow([{ id: 'root', action: 'work' }, ...middle, { id: 'sink', needs: middle.map((m) => m.id), action: 'work' }], {
        outputs: { n: '${{ steps.sink.output }}' },
      }),
    );
    const t0 = performance.now();
    run.start();
    const fanOut = run.run('root', 1);
    expect(dispatches(fanOut)).toHaveLength(width);
    const dispatchedAfter: string[][] = [];
    for (let i = 0; i < width; i++) {
      run.started(`m${i}`, 1);
      dispatchedAfter.push(dispatchedIds(run.complete(`m${i}`, i, 1)));
    }
    expect(dispatchedAfter.slice(0, -1).flat()).toEqual([]);
    expect(dispatchedAfter.at(-1)).toEqual(['sink']);
    run.run('sink', 'done');
    const elapsed = performance.now() - t0;
    expect(run.state.status).toBe('completed');
    expect(run.state.outputs).toEqual({ n: 'done' });
    // About 2000 decisions at O(steps) each with a small constant (~0.5s alone); a quadratic
    // regression takes minutes, so the bound can leave room for a busy shared machine.
    expect(elapsed).toBeLessThan(4000);
  });
});

function fail(message: string): never {
  throw new Error(message);
}
