import type { StepSpec } from '../workflow-spec/spec.schema';
import type { Command } from './events';
import { createRun, decide, LEASE_MS } from './run.machine';
import { boom, deepFreeze, diamond, dispatchedIds, dispatches, emitted, emittedTypes, RunDriver, workflow } from '../testing';

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

  it('builds the expression scope at the end of a run only when the workflow has outputs (it reads every finished step)', () => {
    // The scope resolves each finished step's stored output (a blob reference) as it is built: the resolver counts builds.
    const ref = { $weftBlob: 'a'.repeat(64), size: 9 };
    const finish = (outputs?: Record<string, string>): { resolved: number; run: RunDriver } => {
      const run = new RunDriver(workflow([{ id: 'a', action: 'noop' }, { id: 'b', action: 'noop' }], outputs && { outputs }));
      let resolved = 0;
      run.options = { resolveBlob: () => (resolved++, { x: 1 }) };
      run.start();
      run.run('a', ref);
      run.run('b', ref);
      expect(run.state.status).toBe('completed');
      return { resolved, run };
    };
    expect(finish().resolved).toBe(0);
    // The scope is lazy too: the outputs read step a, so only a's output is resolved.
    const withOutputs = finish({ x: '${{ steps.a.output.x }}' });
    expect(withOutputs.resolved).toBe(1);
    expect(withOutputs.run.state.outputs).toEqual({ x: 1 });
    const listing = finish({ n: '${{ size(steps) }}', all: '${{ steps.all(id, steps[id].status == "completed") }}', has: "${{ 'b' in steps && !('zz' in steps) }}" });
    expect(listing.run.state.outputs).toEqual({ n: 2, all: true, has: true });
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
    expect(commands).toContainEqual({ type: 'abort-run', reason: 'stop', steps: [{ stepId: 'a', attempt: 1, token: 'r1:a:1' }] });
    // Its result, arriving after, is ignored.
    const canceled = run.state;
    expect(complete(run, run.at(2))).toEqual([]);
    expect(run.state).toBe(canceled);
  });
});

describe('wide DAGs', () => {
  it('processes a 1 -> 1000 -> 1 fan-out event by event quickly', () => {
    const width = 1000;
    const middle: StepSpec[] = Array.from({ length: width }, (_, i) => ({ id: `m${i}`, needs: ['root'], action: 'work', with: { i } }));
    const run = new RunDriver(
      workflow([{ id: 'root', action: 'work' }, ...middle, { id: 'sink', needs: middle.map((m) => m.id), action: 'work' }], {
        outputs: { n: '${{ steps.sink.output }}' },
        // All 1000 in flight at once: this measures one event's cost (dispatch-window.spec.ts has the window).
        maxStepsInFlight: width,
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
