import { dispatchSubject, type StepHeartbeat, SUBJECTS } from '@weft/contracts';
import { ActionError, NonRetryableError } from './action.errors';
import { ActionRegistry } from './action.registry';
import type { ActionDefinition } from './action.types';
import { builtinActions } from './actions/builtin.actions';
import { recordingLogger } from './__fixtures__/action-context.fixture';
import { waitFor } from './__fixtures__/wait.fixture';
import { awaitResult, bus, dispatch, gatedAction, heartbeats, heartbeatTimes, resultOf, sentinelStarted, startWorker, useWorkerHarness } from './__fixtures__/worker-harness.fixture';
import { silentLogger } from './logger.util';
import { createWorker, type StepFinishedEvent } from './worker';

// One step, aborting it, long steps. Concurrency, delivery failures and shutdown: worker.delivery.spec.ts.

useWorkerHarness();

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
    await waitFor(() => heartbeats.length === 1, 'the started heartbeat');
    // Both times are taken where they happen, not where this test notices them (a loaded machine
    // notices late): the heartbeat arrived at least ~startedReportDelayMs after the handler's call.
    expect((heartbeatTimes[0] ?? 0) - (action.calledAt[0] ?? Infinity)).toBeGreaterThanOrEqual(20);
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
