import { BusError } from '@weft/bus';
import { SUBJECTS } from '@weft/contracts';
import type { ActionDefinition } from './action.types';
import { builtinActions } from './actions/builtin.actions';
import { deferred, waitFor } from './__fixtures__/wait.fixture';
import { awaitResult, bus, dispatch, gatedAction, heartbeats, results, startWorker, useWorkerHarness } from './__fixtures__/worker-harness.fixture';
import { createWorker, type StepFinishedEvent } from './worker';

// Concurrency and sharing, delivery failures and shutdown. The rest of the worker's behaviour: worker.spec.ts.

useWorkerHarness();

describe('worker: concurrency and sharing', () => {
  it('runs at most `concurrency` steps at once, across queues', async () => {
    let running = 0;
    let peak = 0;
    const gate = deferred();
    const worker = await startWorker({
      queues: ['alpha', 'beta'],
      concurrency: 2,
      prefetch: 0,
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
    // Without prefetch each queue's consumer hands over up to `concurrency` dispatches: four are held, two wait for a slot.
    await waitFor(() => bus.deliveries.filter((d) => d.startsWith(SUBJECTS.dispatchPrefix)).length === 4, 'four deliveries');
    await new Promise((resolve) => setImmediate(resolve));
    expect(worker.inFlight()).toBe(2);
    expect(results).toHaveLength(0);

    gate.resolve();
    await waitFor(() => results.length === 6, 'six results');
    expect(peak).toBe(2);
    expect(new Set(results.map((r) => r.token))).toEqual(new Set(sent.map((s) => s.token)));
  });

  it('holds `prefetch` dispatches beyond `concurrency` and gives a freed slot to the waiting runs in turn', async () => {
    const order: string[] = [];
    const gates: (() => void)[] = [];
    const worker = await startWorker({
      concurrency: 1,
      prefetch: 8,
      actions: [
        {
          name: 'held',
          handler: async (_input, ctx) => {
            order.push(`${ctx.runId}/${ctx.stepId}`);
            await new Promise<void>((resolve) => gates.push(resolve));
            return null;
          },
        },
      ],
    });
    // A big run's backlog first, then one step of a small run behind it in the queue.
    for (let i = 1; i <= 5; i++) await dispatch({ action: 'held', runId: 'big', stepId: `b${i}` });
    await dispatch({ action: 'held', runId: 'small', stepId: 's1' });
    // All six are held (1 running + 5 waiting: within concurrency + prefetch), one runs.
    await waitFor(() => bus.deliveries.filter((d) => d.startsWith(SUBJECTS.dispatchPrefix)).length === 6, 'six deliveries');
    await waitFor(() => order.length === 1, 'the first step running');
    expect(worker.inFlight()).toBe(1);
    for (let done = 1; done <= 5; done++) {
      gates.shift()?.();
      await waitFor(() => order.length === done + 1, `step ${done + 1} running`);
    }
    gates.shift()?.();
    await waitFor(() => results.length === 6, 'six results');
    // Runs take turns in the order they started waiting (big first): the small run's step goes after
    // one more of the big run's, not after its whole backlog (FIFO: b1 ... b5, then s1).
    expect(order).toEqual(['big/b1', 'big/b2', 'small/s1', 'big/b3', 'big/b4', 'big/b5']);
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
    expect(() => createWorker({ bus, queues: ['q'], actions: [], prefetch: -1 })).toThrow(/prefetch/);
    expect(() => createWorker({ bus, queues: ['q'], actions: [], prefetch: 1.5 })).toThrow(/prefetch/);
  });
});
