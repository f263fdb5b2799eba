import { BusError, InMemoryBus } from '@weft/bus';
import { dispatchSubject, type StepDispatch, type StepHeartbeat, type StepResult, SUBJECTS } from '@weft/contracts';
import { ActionError, NonRetryableError } from './action.errors';
import { ActionRegistry } from './action.registry';
import type { ActionContext, ActionDefinition } from './action.types';
import { builtinActions } from './actions/builtin.actions';
import { recordingLogger } from './__fixtures__/action-context.fixture';
import { SpyBus } from './__fixtures__/spy-bus.fixture';
import { deferred, waitFor } from './__fixtures__/wait.fixture';
import { silentLogger } from './logger.util';
import { createWorker, type StepFinishedEvent, type Worker, type WorkerOptions } from './worker';

let bus: SpyBus;
let workers: Worker[];
let results: StepResult[];
let heartbeats: { message: StepHeartbeat; msgId?: string }[];
let sequence = 0;

beforeEach(async () => {
  bus = new SpyBus(new InMemoryBus({ onError: () => {} }));
  workers = [];
  results = [];
  heartbeats = [];
  // Stands in for the scheduler's inbox consumers.
  await bus.consume(SUBJECTS.stepResult, { group: 'test-scheduler' }, async (d) => {
    results.push(d.data);
    await d.ack();
  });
  await bus.consume(SUBJECTS.stepHeartbeat, { group: 'test-scheduler' }, async (d) => {
    heartbeats.push({ message: d.data, msgId: d.headers['Nats-Msg-Id'] });
    await d.ack();
  });
});

afterEach(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await bus.close();
});

async function startWorker(options: Partial<WorkerOptions> & Pick<WorkerOptions, 'actions'>): Promise<Worker> {
  // A short grace keeps cleanup quick when a test fails with a step held open.
  const worker = createWorker({ bus, queues: ['default'], logger: silentLogger, shutdownGraceMs: 200, ...options });
  workers.push(worker);
  await worker.start();
  return worker;
}

function makeDispatch(overrides: Partial<StepDispatch> = {}): StepDispatch {
  sequence += 1;
  const stepId = overrides.stepId ?? `step${sequence}`;
  const runId = overrides.runId ?? 'run-1';
  const attempt = overrides.attempt ?? 1;
  return {
    runId,
    workflow: 'demo',
    stepId,
    attempt,
    token: `${runId}:${stepId}:${attempt}:${sequence}`,
    action: 'noop',
    input: {},
    queue: 'default',
    timeoutMs: 10_000,
    ...overrides,
  };
}

async function dispatch(overrides: Partial<StepDispatch> = {}): Promise<StepDispatch> {
  const message = makeDispatch(overrides);
  await bus.publish(dispatchSubject(message.queue), message, { msgId: `${message.runId}:${message.stepId}:${message.attempt}` });
  return message;
}

const resultOf = (token: string): StepResult | undefined => results.find((r) => r.token === token);
async function awaitResult(token: string): Promise<StepResult> {
  await waitFor(() => resultOf(token) !== undefined, `the result of ${token}`);
  const result = resultOf(token);
  if (!result) throw new Error('unreachable');
  return result;
}

/**
 * Proves "no started heartbeat is still coming" by an event instead of a sleep: a sentinel step,
 * dispatched later on the same worker, sends its own started heartbeat. Timers with the same
 * delay fire in the order they were set, so a started timer left over from an earlier step
 * would have fired first.
 */
async function sentinelStarted(sentinel: ReturnType<typeof gatedAction>): Promise<void> {
  const sent = await dispatch({ action: sentinel.name });
  await waitFor(() => heartbeats.some((h) => h.message.token === sent.token && h.message.phase === 'started'), "the sentinel's started heartbeat");
  sentinel.release();
  await awaitResult(sent.token);
}

/** An action whose runs the test holds open and can inspect. */
function gatedAction(name = 'gated'): ActionDefinition & { calls: ActionContext[]; release(): void; observedAborts: unknown[] } {
  const gate = deferred();
  const calls: ActionContext[] = [];
  const observedAborts: unknown[] = [];
  return {
    name,
    calls,
    observedAborts,
    release: () => gate.resolve(),
    handler: async (input, ctx) => {
      calls.push(ctx);
      ctx.signal.addEventListener('abort', () => observedAborts.push(ctx.signal.reason));
      await gate.promise;
      return { done: input.n ?? true };
    },
  };
}

describe('worker: one step', () => {
  it('runs a short handler and publishes only the completed result, carrying startedAt, then acks', async () => {
    const finished: StepFinishedEvent[] = [];
    const sentinel = gatedAction('sentinel');
    const worker = await startWorker({ actions: [...builtinActions(), sentinel], workerId: 'w-1', onStepFinished: (e) => finished.push(e) });
    const before = Date.now();
    const sent = await dispatch({ action: 'noop', input: { hello: 'world' } });

    const result = await awaitResult(sent.token);
    expect(result).toMatchObject({
      outcome: 'completed',
      runId: 'run-1',
      stepId: sent.stepId,
      attempt: 1,
      token: sent.token,
      workerId: 'w-1',
      output: { hello: 'world' },
    });
    expect(result.startedAt).toBeGreaterThanOrEqual(before);
    expect(result.finishedAt).toBeGreaterThanOrEqual(result.startedAt ?? Infinity);
    await waitFor(() => bus.settled('ack', sent.token).length === 1, 'the ack');
    // One message for the whole step: no started heartbeat, even once a later step's delay ran out.
    await sentinelStarted(sentinel);
    const ofStep = (payload: unknown): boolean => (payload as { token?: string }).token === sent.token;
    expect(bus.tried.filter((t) => t.subject !== dispatchSubject('default') && ofStep(t.payload))).toEqual([
      { subject: SUBJECTS.stepResult, payload: result, msgId: `${sent.token}:result`, failed: false },
    ]);
    expect(heartbeats.filter((h) => h.message.token === sent.token)).toEqual([]);
    expect(bus.dispatchSettlements(sent.token).map((s) => s.op)).toEqual(['ack']);
    expect(finished.filter((e) => e.stepId === sent.stepId)).toEqual([expect.objectContaining({ stepId: sent.stepId, action: 'noop', outcome: 'completed', workerId: 'w-1', durationMs: expect.any(Number) })]);
    expect(worker.inFlight()).toBe(0);
  });

  it('a short failing handler also sends only its result', async () => {
    const sentinel = gatedAction('sentinel');
    await startWorker({ actions: [{ name: 'bad', handler: () => Promise.reject(new ActionError('E_BAD', 'nope')) }, sentinel] });
    const sent = await dispatch({ action: 'bad' });
    await expect(awaitResult(sent.token)).resolves.toMatchObject({ outcome: 'failed', error: { code: 'E_BAD' }, startedAt: expect.any(Number) });
    await sentinelStarted(sentinel);
    expect(heartbeats.filter((h) => h.message.token === sent.token)).toEqual([]);
  });

  it('sends the started heartbeat once the handler has run for startedReportDelayMs, and the result after it', async () => {
    const action = gatedAction();
    await startWorker({ actions: [action], workerId: 'w-1', startedReportDelayMs: 30 });
    const sent = await dispatch({ action: 'gated' });
    await waitFor(() => action.calls.length === 1, 'the handler call');
    const calledAt = Date.now();
    await waitFor(() => heartbeats.length === 1, 'the started heartbeat');
    expect(Date.now() - calledAt).toBeGreaterThanOrEqual(20);
    expect(heartbeats).toEqual([
      {
        message: { runId: 'run-1', stepId: sent.stepId, attempt: 1, token: sent.token, workerId: 'w-1', phase: 'started' },
        msgId: `${sent.token}:started`,
      },
    ]);
    expect(bus.resultsPublished(sent.token)).toEqual([]);
    action.release();
    await awaitResult(sent.token);
    const order = bus.published.filter((p) => p.subject !== dispatchSubject('default')).map((p) => p.subject);
    expect(order).toEqual([SUBJECTS.stepHeartbeat, SUBJECTS.stepResult]);
  });

  it('with startedReportDelayMs 0 sends the started heartbeat before the handler runs, as before', async () => {
    let heartbeatsSeenByHandler = -1;
    await startWorker({
      actions: [{ name: 'peek', handler: () => { heartbeatsSeenByHandler = bus.tried.filter((t) => t.subject === SUBJECTS.stepHeartbeat).length; return null; } }],
      startedReportDelayMs: 0,
    });
    const sent = await dispatch({ action: 'peek' });
    await awaitResult(sent.token);
    expect(heartbeatsSeenByHandler).toBe(1);
    await waitFor(() => heartbeats.length === 1, 'the started heartbeat');
    expect(heartbeats[0]).toMatchObject({ message: { phase: 'started' }, msgId: `${sent.token}:started` });
  });

  it.each([
    [{ startedReportDelayMs: -1 }],
    [{ startedReportDelayMs: 600, heartbeatIntervalMs: 1000 }],
  ])('rejects startedReportDelayMs outside 0 .. heartbeatIntervalMs / 2: %j', (options) => {
    expect(() => createWorker({ bus, queues: ['default'], actions: builtinActions(), logger: silentLogger, ...options })).toThrow(/startedReportDelayMs/);
  });

  it('gives the handler its context, with a logger bound to run, step and attempt', async () => {
    const logger = recordingLogger();
    await startWorker({ actions: builtinActions(), logger, workerId: 'w-ctx' });
    const sent = await dispatch({ action: 'log', input: { message: 'hi there', level: 'warn' }, attempt: 3, runId: 'run-ctx' });
    await expect(awaitResult(sent.token)).resolves.toMatchObject({ outcome: 'completed', output: { logged: true } });
    expect(logger.entries).toContainEqual({
      level: 'warn',
      message: 'hi there',
      fields: { runId: 'run-ctx', stepId: sent.stepId, attempt: 3, action: 'log', workerId: 'w-ctx' },
    });
  });

  it.each<[string, ActionDefinition['handler'], { code: string; retryable: boolean; message?: string }]>([
    ['a plain Error', () => { throw new Error('kaput'); }, { code: 'HANDLER_ERROR', retryable: true, message: 'kaput' }],
    ['an async rejection with a code', async () => { throw new ActionError('E_RATE_LIMIT', 'slow down'); }, { code: 'E_RATE_LIMIT', retryable: true }],
    ['an ActionError marked non-retryable', () => { throw new ActionError('E_BAD', 'bad', { retryable: false }); }, { code: 'E_BAD', retryable: false }],
    ['a NonRetryableError', () => { throw new NonRetryableError('gone for good'); }, { code: 'NON_RETRYABLE', retryable: false }],
    ['an output JSON cannot carry', () => ({ big: BigInt(1) }), { code: 'OUTPUT_NOT_SERIALIZABLE', retryable: false }],
  ])('reports %s as a failed result with its code and retryability, and acks', async (_label, handler, expected) => {
    await startWorker({ actions: [{ name: 'broken', handler }] });
    const sent = await dispatch({ action: 'broken' });
    const result = await awaitResult(sent.token);
    expect(result).toMatchObject({ outcome: 'failed', error: expect.objectContaining(expected) });
    await waitFor(() => bus.settled('ack', sent.token).length === 1, 'the ack');
  });

  it('fails an unknown action with ACTION_NOT_FOUND, non-retryable', async () => {
    await startWorker({ actions: new ActionRegistry(builtinActions()) });
    const sent = await dispatch({ action: 'email.send' });
    await expect(awaitResult(sent.token)).resolves.toMatchObject({
      outcome: 'failed',
      error: { code: 'ACTION_NOT_FOUND', retryable: false, message: expect.stringContaining('email.send') },
    });
  });

  it('runs the flaky fail action to success on the attempt named by untilAttempt', async () => {
    await startWorker({ actions: builtinActions() });
    const first = await dispatch({ action: 'fail', stepId: 'flaky', attempt: 1, input: { untilAttempt: 2 } });
    await expect(awaitResult(first.token)).resolves.toMatchObject({ outcome: 'failed', error: { code: 'FAILED', retryable: true } });
    const second = await dispatch({ action: 'fail', stepId: 'flaky', attempt: 2, input: { untilAttempt: 2 } });
    await expect(awaitResult(second.token)).resolves.toMatchObject({ outcome: 'completed', output: { attempt: 2 } });
  });
});

describe('worker: aborting a step', () => {
  it('aborts a step past its timeoutMs with TIMEOUT (retryable), and the handler sees the signal', async () => {
    const action = gatedAction();
    await startWorker({ actions: [action] });
    const sent = await dispatch({ action: 'gated', timeoutMs: 50 });
    await expect(awaitResult(sent.token)).resolves.toMatchObject({ outcome: 'failed', error: { code: 'TIMEOUT', retryable: true } });
    expect(action.observedAborts).toEqual([expect.objectContaining({ code: 'TIMEOUT' })]);
    expect(bus.settled('ack', sent.token)).toHaveLength(1);
  });

  it('reports the timeout even when the handler ignores its signal', async () => {
    await startWorker({ actions: [{ name: 'stuck', handler: () => new Promise(() => {}) }] });
    const sent = await dispatch({ action: 'stuck', timeoutMs: 30 });
    await expect(awaitResult(sent.token)).resolves.toMatchObject({ outcome: 'failed', error: { code: 'TIMEOUT' } });
  });

  it('aborts on a cancel broadcast for the step, then for the run, leaving other runs alone', async () => {
    const action = gatedAction();
    const worker = await startWorker({ actions: [action] });
    const a1 = await dispatch({ action: 'gated', runId: 'run-a', stepId: 's1' });
    const a2 = await dispatch({ action: 'gated', runId: 'run-a', stepId: 's2' });
    const b1 = await dispatch({ action: 'gated', runId: 'run-b', stepId: 's1' });
    await waitFor(() => worker.inFlight() === 3, 'three running steps');

    await bus.broadcast(SUBJECTS.runCancel, { runId: 'run-a', stepId: 's1', reason: 'user asked' });
    await expect(awaitResult(a1.token)).resolves.toMatchObject({
      outcome: 'failed',
      error: { code: 'CANCELED', retryable: false, message: expect.stringContaining('user asked') },
    });
    expect(worker.inFlight()).toBe(2);

    await bus.broadcast(SUBJECTS.runCancel, { runId: 'run-a', stepId: 's2', attempt: 7, reason: 'another attempt' });
    await bus.broadcast(SUBJECTS.runCancel, { runId: 'run-a', reason: 'run canceled' });
    await expect(awaitResult(a2.token)).resolves.toMatchObject({ outcome: 'failed', error: { code: 'CANCELED', message: expect.stringContaining('run canceled') } });
    expect(action.observedAborts).toEqual([expect.objectContaining({ code: 'CANCELED' }), expect.objectContaining({ code: 'CANCELED' })]);

    expect(resultOf(b1.token)).toBeUndefined();
    action.release();
    await expect(awaitResult(b1.token)).resolves.toMatchObject({ outcome: 'completed' });
  });

  it('aborts a step whose started heartbeat was never sent; its failed result is the only message', async () => {
    const action = gatedAction();
    const worker = await startWorker({ actions: [action], heartbeatIntervalMs: 60_000, startedReportDelayMs: 10_000 });
    const sent = await dispatch({ action: 'gated', runId: 'run-q', stepId: 's1' });
    await waitFor(() => worker.inFlight() === 1, 'the running step');
    await bus.broadcast(SUBJECTS.runCancel, { runId: 'run-q', stepId: 's1', attempt: 1, reason: 'run canceled' });
    await expect(awaitResult(sent.token)).resolves.toMatchObject({ outcome: 'failed', error: { code: 'CANCELED' }, startedAt: expect.any(Number) });
    expect(action.observedAborts).toEqual([expect.objectContaining({ code: 'CANCELED' })]);
    expect(heartbeats).toEqual([]);
    action.release();
  });

  it('drops a dispatch whose attempt was aborted before it arrived (a dead replica\'s redelivery), runs the next attempt', async () => {
    const action = gatedAction();
    action.release();
    const finished: StepFinishedEvent[] = [];
    const probe = gatedAction('probe');
    const worker = await startWorker({ actions: [action, probe], onStepFinished: (e) => finished.push(e) });
    const probed = await dispatch({ action: 'probe', runId: 'run-p' });
    await waitFor(() => worker.inFlight() === 1, 'the probe step to run');
    await bus.broadcast(SUBJECTS.runCancel, { runId: 'run-x', stepId: 's', attempt: 1, reason: 'lease expired' });
    // A run-level cancel is not remembered: run.retry may dispatch the run's steps again soon.
    await bus.broadcast(SUBJECTS.runCancel, { runId: 'run-y', reason: 'run canceled' });
    // Cancels are handled in order: once the probe is canceled, the worker has seen the two above.
    await bus.broadcast(SUBJECTS.runCancel, { runId: 'run-p', reason: 'probe' });
    await expect(awaitResult(probed.token)).resolves.toMatchObject({ outcome: 'failed', error: { code: 'CANCELED' } });
    const stale = await dispatch({ action: 'gated', runId: 'run-x', stepId: 's', attempt: 1 });
    const next = await dispatch({ action: 'gated', runId: 'run-x', stepId: 's', attempt: 2 });
    const other = await dispatch({ action: 'gated', runId: 'run-y', stepId: 's', attempt: 2 });
    await expect(awaitResult(next.token)).resolves.toMatchObject({ outcome: 'completed', attempt: 2 });
    await expect(awaitResult(other.token)).resolves.toMatchObject({ outcome: 'completed' });
    expect(action.calls.map((c) => [c.runId, c.attempt])).toEqual(expect.arrayContaining([['run-x', 2], ['run-y', 2]]));
    expect(action.calls).toHaveLength(2);
    expect(resultOf(stale.token)).toBeUndefined();
    // Acknowledged, not left to come back again.
    await waitFor(() => bus.settled('ack', stale.token).length === 1, 'the stale dispatch to be acked');
    expect(worker.inFlight()).toBe(0);
    expect(finished.filter((e) => e.runId !== 'run-p').map((e) => [e.runId, e.attempt])).toEqual(expect.arrayContaining([['run-x', 2], ['run-y', 2]]));
    expect(finished).toHaveLength(3);
  });
});

describe('worker: long steps', () => {
  const progressOf = (token: string): StepHeartbeat[] => heartbeats.map((h) => h.message).filter((h) => h.token === token && h.phase === 'progress');

  it('sends progress heartbeats and extends the delivery while a step runs, and stops when it ends', async () => {
    const first = gatedAction('first');
    const second = gatedAction('second');
    await startWorker({ actions: [first, second], heartbeatIntervalMs: 20 });
    const sent = await dispatch({ action: 'first' });
    await waitFor(() => progressOf(sent.token).length >= 2, 'two progress heartbeats');
    expect(bus.settled('working', sent.token).length).toBeGreaterThanOrEqual(2);
    expect(progressOf(sent.token)[0]).toMatchObject({ runId: 'run-1', stepId: sent.stepId, attempt: 1 });

    first.release();
    await expect(awaitResult(sent.token)).resolves.toMatchObject({ outcome: 'completed' });
    const count = progressOf(sent.token).length;
    // Another step's heartbeats are the clock: three of its beats, none for the finished step.
    const other = await dispatch({ action: 'second' });
    await waitFor(() => progressOf(other.token).length >= 3, 'three beats of another step');
    expect(progressOf(sent.token)).toHaveLength(count);
    second.release();
  });

  it('ctx.heartbeat() before the started report sends the started heartbeat at once, not a progress one', async () => {
    const action = gatedAction();
    await startWorker({ actions: [action], heartbeatIntervalMs: 60_000, startedReportDelayMs: 10_000 });
    const sent = await dispatch({ action: 'gated' });
    await waitFor(() => action.calls.length === 1, 'the handler call');
    action.calls[0].heartbeat();
    await waitFor(() => heartbeats.length === 1, 'the started heartbeat');
    expect(heartbeats[0]).toMatchObject({ message: { phase: 'started', token: sent.token }, msgId: `${sent.token}:started` });
    expect(bus.settled('working', sent.token)).toHaveLength(1);
    action.release();
    await awaitResult(sent.token);
    expect(heartbeats).toHaveLength(1);
  });

  it('ctx.heartbeat() beats at once, at most once a second', async () => {
    const action = gatedAction();
    await startWorker({ actions: [action], heartbeatIntervalMs: 60_000 });
    const sent = await dispatch({ action: 'gated' });
    await waitFor(() => action.calls.length === 1, 'the handler call');
    await waitFor(() => heartbeats.some((h) => h.message.token === sent.token && h.message.phase === 'started'), 'the started heartbeat');
    for (let i = 0; i < 5; i++) action.calls[0].heartbeat();
    await waitFor(() => progressOf(sent.token).length === 1, 'the heartbeat asked for');
    expect(bus.settled('working', sent.token)).toHaveLength(1);

    action.release();
    await waitFor(() => bus.resultsPublished(sent.token).length === 1, 'the result');
    const progressPublished = bus.published.filter((p) => p.subject === SUBJECTS.stepHeartbeat && (p.payload as StepHeartbeat).phase === 'progress');
    expect(progressPublished).toHaveLength(1);
  });
});

describe('worker: concurrency and sharing', () => {
  it('runs at most `concurrency` steps at once, across queues', async () => {
    let running = 0;
    let peak = 0;
    const gate = deferred();
    const worker = await startWorker({
      queues: ['alpha', 'beta'],
      concurrency: 2,
      actions: [
        {
          name: 'count',
          handler: async () => {
            running += 1;
            peak = Math.max(peak, running);
            await gate.promise;
            running -= 1;
            return null;
          },
        },
      ],
    });
    const sent = [];
    for (const queue of ['alpha', 'beta', 'alpha', 'beta', 'alpha', 'beta']) sent.push(await dispatch({ action: 'count', queue }));
    await waitFor(() => worker.inFlight() === 2, 'two running steps');
    // Each queue's consumer hands over up to `concurrency` dispatches: four are held, two wait for a slot.
    await waitFor(() => bus.deliveries.filter((d) => d.startsWith(SUBJECTS.dispatchPrefix)).length === 4, 'four deliveries');
    await new Promise((resolve) => setImmediate(resolve));
    expect(worker.inFlight()).toBe(2);
    expect(results).toHaveLength(0);

    gate.resolve();
    await waitFor(() => results.length === 6, 'six results');
    expect(peak).toBe(2);
    expect(new Set(results.map((r) => r.token))).toEqual(new Set(sent.map((s) => s.token)));
  });

  it('serves every queue with *', async () => {
    await startWorker({ queues: ['*'], actions: builtinActions() });
    const sent = [await dispatch({ queue: 'alpha' }), await dispatch({ queue: 'io' }), await dispatch({ queue: 'default' })];
    for (const s of sent) await expect(awaitResult(s.token)).resolves.toMatchObject({ outcome: 'completed' });
  });

  it('shares a queue between two workers: each step runs once', async () => {
    const calls = new Map<string, number>();
    const perWorker = new Map<string, number>();
    const actions: ActionDefinition[] = [
      {
        name: 'tally',
        handler: async (_input, ctx) => {
          calls.set(ctx.stepId, (calls.get(ctx.stepId) ?? 0) + 1);
          await new Promise((resolve) => setImmediate(resolve));
          return null;
        },
      },
    ];
    const finished = (e: StepFinishedEvent): void => void perWorker.set(e.workerId, (perWorker.get(e.workerId) ?? 0) + 1);
    await startWorker({ actions, workerId: 'w-a', concurrency: 3, onStepFinished: finished });
    await startWorker({ actions, workerId: 'w-b', concurrency: 3, onStepFinished: finished });
    for (let i = 0; i < 20; i++) await dispatch({ action: 'tally', stepId: `t${i}` });

    await waitFor(() => results.length === 20, 'twenty results');
    expect([...calls.values()]).toEqual(new Array(20).fill(1));
    expect(new Set(results.map((r) => r.stepId)).size).toBe(20);
    expect(perWorker.get('w-a')).toBeGreaterThan(0);
    expect(perWorker.get('w-b')).toBeGreaterThan(0);
  });
});

describe('worker: delivery failures and shutdown', () => {
  it('retries a result the broker would not take, under the same message id: the handler runs once, the result arrives once', async () => {
    const finished: StepFinishedEvent[] = [];
    let runs = 0;
    await startWorker({ actions: [{ name: 'once', handler: () => ++runs }], onStepFinished: (e) => finished.push(e) });
    bus.failNextPublishes(SUBJECTS.stepResult, 3);
    const sent = await dispatch({ action: 'once' });

    await expect(awaitResult(sent.token)).resolves.toMatchObject({ outcome: 'completed', output: 1 });
    await waitFor(() => bus.settled('ack', sent.token).length === 1, 'the ack');
    expect(runs).toBe(1);
    const msgId = `${sent.token}:result`;
    expect(bus.resultsTried(sent.token)).toEqual([
      { msgId, failed: true },
      { msgId, failed: true },
      { msgId, failed: true },
      { msgId, failed: false },
    ]);
    expect(bus.dispatchSettlements(sent.token).map((s) => [s.op, s.deliveryCount])).toEqual([['ack', 1]]);
    expect(finished).toEqual([expect.objectContaining({ outcome: 'completed' })]);
    // Once: a later step whose result is retried once (after the first retry delay, 100 ms) comes
    // through, and a stray redelivery or second result of the first would have come by then.
    bus.failNextPublishes(SUBJECTS.stepResult, 1);
    const later = await dispatch({ action: 'once' });
    await awaitResult(later.token);
    expect(bus.resultsTried(later.token)).toEqual([{ msgId: `${later.token}:result`, failed: true }, { msgId: `${later.token}:result`, failed: false }]);
    expect(runs).toBe(2);
    expect(results.filter((r) => r.token === sent.token)).toHaveLength(1);
  });

  it('keeps heartbeating and extending the dispatch while it retries the result', async () => {
    let runs = 0;
    const sentinel = gatedAction('sentinel');
    await startWorker({ actions: [{ name: 'once', handler: () => ++runs }, sentinel], heartbeatIntervalMs: 20 });
    bus.failNextPublishes(SUBJECTS.stepResult, Infinity);
    const sent = await dispatch({ action: 'once' });
    await waitFor(() => bus.resultsTried(sent.token).length >= 1, 'a first try of the result');
    const progress = (): number => heartbeats.filter((h) => h.message.token === sent.token && h.message.phase === 'progress').length;
    const [beats, extensions] = [progress(), bus.settled('working', sent.token).length];
    await waitFor(() => progress() >= beats + 3, 'three heartbeats while the result is retried');
    expect(bus.settled('working', sent.token).length).toBeGreaterThanOrEqual(extensions + 3);
    expect(bus.dispatchSettlements(sent.token).filter((s) => s.op !== 'working')).toEqual([]);

    bus.stopFailing(SUBJECTS.stepResult);
    await expect(awaitResult(sent.token)).resolves.toMatchObject({ outcome: 'completed', output: 1 });
    await waitFor(() => bus.settled('ack', sent.token).length === 1, 'the ack');
    expect(runs).toBe(1);
    // Heartbeats stop once the result is out: a later step beats twice on the same 20 ms interval
    // meanwhile, so a timer left running for the first would have beaten in between.
    const after = progress();
    const later = await dispatch({ action: sentinel.name });
    await waitFor(() => heartbeats.filter((h) => h.message.token === later.token && h.message.phase === 'progress').length >= 2, 'two heartbeats of a later step');
    sentinel.release();
    expect(progress()).toBe(after);
  });

  it('hands the step back once resultRetryMs has run out, and it runs again', async () => {
    const finished: StepFinishedEvent[] = [];
    let runs = 0;
    await startWorker({ actions: [{ name: 'once', handler: () => ++runs }], resultRetryMs: 250, onStepFinished: (e) => finished.push(e) });
    // Tries at 0 and 100 ms; the next would be at 300 ms, past the bound.
    bus.failNextPublishes(SUBJECTS.stepResult, 2);
    const sent = await dispatch({ action: 'once' });

    await expect(awaitResult(sent.token)).resolves.toMatchObject({ outcome: 'completed', output: 2 });
    expect(bus.dispatchSettlements(sent.token).map((s) => [s.op, s.deliveryCount])).toEqual([
      ['nak', 1],
      ['ack', 2],
    ]);
    expect(finished.map((e) => e.outcome)).toEqual(['handed-back', 'completed']);
    expect(finished[0].error).toMatchObject({ message: expect.stringContaining('injected publish failure') });
  });

  it('hands the step back at once when the broker can never take the result', async () => {
    let runs = 0;
    await startWorker({ actions: [{ name: 'once', handler: () => ++runs }] });
    bus.failNextPublishes(SUBJECTS.stepResult, 1, () => new BusError('PAYLOAD_TOO_LARGE', 'publish to weft.step.result failed: max_payload size exceeded'));
    const sent = await dispatch({ action: 'once' });

    await expect(awaitResult(sent.token)).resolves.toMatchObject({ outcome: 'completed', output: 2 });
    expect(bus.resultsTried(sent.token).map((t) => t.failed)).toEqual([true, false]);
    expect(bus.dispatchSettlements(sent.token).map((s) => s.op)).toEqual(['nak', 'ack']);
  });

  it('stop() past its grace period ends the retries and hands the step back', async () => {
    const finished: StepFinishedEvent[] = [];
    let runs = 0;
    const worker = await startWorker({ actions: [{ name: 'once', handler: () => ++runs }], shutdownGraceMs: 300, onStepFinished: (e) => finished.push(e) });
    bus.failNextPublishes(SUBJECTS.stepResult, Infinity);
    const sent = await dispatch({ action: 'once' });
    await waitFor(() => bus.resultsTried(sent.token).length >= 1, 'a first try of the result');

    const stopping = Date.now();
    await worker.stop();
    // It kept trying through the grace period, not past it.
    expect(Date.now() - stopping).toBeGreaterThanOrEqual(250);
    expect(Date.now() - stopping).toBeLessThan(2_000);
    expect(bus.resultsTried(sent.token).length).toBeGreaterThanOrEqual(2);
    expect(bus.dispatchSettlements(sent.token).filter((s) => s.op !== 'working').map((s) => s.op)).toEqual(['nak']);
    expect(finished).toEqual([expect.objectContaining({ outcome: 'handed-back' })]);
    expect(runs).toBe(1);
  });

  it('stops retrying when the scheduler aborts the attempt meanwhile; its redelivery is dropped', async () => {
    const finished: StepFinishedEvent[] = [];
    let runs = 0;
    await startWorker({ actions: [{ name: 'once', handler: () => ++runs }], onStepFinished: (e) => finished.push(e) });
    bus.failNextPublishes(SUBJECTS.stepResult, Infinity);
    const sent = await dispatch({ action: 'once', runId: 'run-lost' });
    await waitFor(() => bus.resultsTried(sent.token).length >= 1, 'a first try of the result');

    await bus.broadcast(SUBJECTS.runCancel, { runId: 'run-lost', stepId: sent.stepId, attempt: sent.attempt, reason: 'lease expired' });
    await waitFor(() => bus.settled('nak', sent.token).length === 1, 'the hand-back');
    bus.stopFailing(SUBJECTS.stepResult);
    await waitFor(() => bus.settled('ack', sent.token).length === 1, 'the redelivery to be dropped');
    expect(runs).toBe(1);
    expect(bus.resultsPublished(sent.token)).toEqual([]);
    expect(finished).toEqual([expect.objectContaining({ outcome: 'handed-back' })]);
  });

  it('stop() stops pulling and waits for the in-flight step to finish and be reported', async () => {
    const action = gatedAction();
    const worker = await startWorker({ actions: [action], shutdownGraceMs: 10_000, heartbeatIntervalMs: 10 });
    const sent = await dispatch({ action: 'gated' });
    await waitFor(() => worker.inFlight() === 1, 'the step to run');

    let stopped = false;
    const stopping = worker.stop().then(() => {
      stopped = true;
    });
    const later = await dispatch({ action: 'gated' });
    // The running step's heartbeats are the clock: several beats into the shutdown, stop() still waits.
    const beats = heartbeats.length;
    await waitFor(() => heartbeats.length >= beats + 3, 'three more heartbeats');
    expect(stopped).toBe(false);
    expect(action.calls).toHaveLength(1);

    action.release();
    await stopping;
    expect(bus.resultsPublished(sent.token)).toEqual([expect.objectContaining({ outcome: 'completed' })]);
    expect(bus.settled('ack', sent.token)).toHaveLength(1);
    expect(action.observedAborts).toEqual([]);

    // The dispatch that arrived during shutdown waits for another replica.
    const successor = await startWorker({ actions: builtinActions().concat({ name: 'gated', handler: () => 'by successor' }) });
    await expect(awaitResult(later.token)).resolves.toMatchObject({ outcome: 'completed', output: 'by successor' });
    expect(successor.workerId).not.toBe(worker.workerId);
  });

  it('while stop() waits for an in-flight step, a cancel broadcast still reaches and aborts it', async () => {
    const action = gatedAction();
    const worker = await startWorker({ actions: [action], shutdownGraceMs: 60_000 });
    const sent = await dispatch({ action: 'gated', runId: 'run-stop' });
    await waitFor(() => worker.inFlight() === 1, 'the step to run');
    const stopping = worker.stop();
    await bus.broadcast(SUBJECTS.runCancel, { runId: 'run-stop', reason: 'run canceled' });
    await stopping;
    expect(action.observedAborts).toHaveLength(1);
    await expect(awaitResult(sent.token)).resolves.toMatchObject({ outcome: 'failed', error: { code: 'CANCELED' } });
  });

  it('after the grace period stop() aborts the rest and hands them back with nak, reporting nothing', async () => {
    const action = gatedAction();
    const finished: StepFinishedEvent[] = [];
    const worker = await startWorker({ actions: [action], shutdownGraceMs: 50, onStepFinished: (e) => finished.push(e) });
    const sent = await dispatch({ action: 'gated' });
    await waitFor(() => worker.inFlight() === 1, 'the step to run');

    await worker.stop();
    expect(action.observedAborts).toEqual([expect.objectContaining({ code: 'WORKER_SHUTDOWN' })]);
    expect(bus.settled('nak', sent.token)).toHaveLength(1);
    expect(bus.resultsPublished(sent.token)).toEqual([]);
    expect(finished).toEqual([expect.objectContaining({ outcome: 'handed-back' })]);
    expect(worker.inFlight()).toBe(0);
    await expect(worker.start()).rejects.toMatchObject({ code: 'WORKER_INVALID' });

    const successor = gatedAction();
    successor.release();
    await startWorker({ actions: [successor], workerId: 'w-next' });
    await expect(awaitResult(sent.token)).resolves.toMatchObject({ outcome: 'completed', workerId: 'w-next' });
    expect(bus.settled('ack', sent.token)).toEqual([expect.objectContaining({ deliveryCount: 2 })]);
  });

  it('rejects options it cannot work with', () => {
    expect(() => createWorker({ bus, queues: [], actions: [] })).toThrow(/at least one queue/);
    expect(() => createWorker({ bus, queues: ['q'], actions: [], concurrency: 0 })).toThrow(/concurrency/);
    expect(() => createWorker({ bus, queues: ['a.b'], actions: [] })).toThrow(/invalid queue name "a.b"/);
    expect(() => createWorker({ bus, queues: ['*', 'io'], actions: [] })).toThrow(/list it alone/);
    expect(() => createWorker({ bus, queues: ['q'], actions: [], resultRetryMs: -1 })).toThrow(/resultRetryMs/);
  });
});
