import { InMemoryBus } from '@weft/bus';
import { dispatchSubject, type StepDispatch, type StepHeartbeat, type StepResult, SUBJECTS } from '@weft/contracts';
import type { ActionContext, ActionDefinition } from '../action.types';
import { silentLogger } from '../logger.util';
import { createWorker, type Worker, type WorkerOptions } from '../worker';
import { SpyBus } from './spy-bus.fixture';
import { deferred, waitFor } from './wait.fixture';

// The worker specs' shared setup: an in-memory bus standing in for the scheduler's inboxes, and
// helpers to start workers, dispatch steps and await their results. The `let` bindings are live:
// each test sees the values its beforeEach made.

export let bus: SpyBus;
export let workers: Worker[];
export let results: StepResult[];
export let heartbeats: { message: StepHeartbeat; msgId?: string }[];
/** When each of `heartbeats` reached the stand-in scheduler (Date.now()), index for index. */
export let heartbeatTimes: number[];
let sequence = 0;

/** Registers the per-test bus, scheduler stand-in and worker cleanup; call once at the top of a spec file. */
export function useWorkerHarness(): void {
  beforeEach(async () => {
    bus = new SpyBus(new InMemoryBus({ onError: () => {} }));
    workers = [];
    results = [];
    heartbeats = [];
    heartbeatTimes = [];
    // Stands in for the scheduler's inbox consumers.
    await bus.consume(SUBJECTS.stepResult, { group: 'test-scheduler' }, async (d) => {
      results.push(d.data);
      await d.ack();
    });
    await bus.consume(SUBJECTS.stepHeartbeat, { group: 'test-scheduler' }, async (d) => {
      heartbeats.push({ message: d.data, msgId: d.headers['Nats-Msg-Id'] });
      heartbeatTimes.push(Date.now());
      await d.ack();
    });
  });

  afterEach(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await bus.close();
  });
}

export async function startWorker(options: Partial<WorkerOptions> & Pick<WorkerOptions, 'actions'>): Promise<Worker> {
  // A short grace keeps cleanup quick when a test fails with a step held open.
  const worker = createWorker({ bus, queues: ['default'], logger: silentLogger, shutdownGraceMs: 200, ...options });
  workers.push(worker);
  await worker.start();
  return worker;
}

export function makeDispatch(overrides: Partial<StepDispatch> = {}): StepDispatch {
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

export async function dispatch(overrides: Partial<StepDispatch> = {}): Promise<StepDispatch> {
  const message = makeDispatch(overrides);
  await bus.publish(dispatchSubject(message.queue), message, { msgId: `${message.runId}:${message.stepId}:${message.attempt}` });
  return message;
}

export const resultOf = (token: string): StepResult | undefined => results.find((r) => r.token === token);
export async function awaitResult(token: string): Promise<StepResult> {
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
export async function sentinelStarted(sentinel: ReturnType<typeof gatedAction>): Promise<void> {
  const sent = await dispatch({ action: sentinel.name });
  await waitFor(() => heartbeats.some((h) => h.message.token === sent.token && h.message.phase === 'started'), "the sentinel's started heartbeat");
  sentinel.release();
  await awaitResult(sent.token);
}

/** An action whose runs the test holds open and can inspect. */
export function gatedAction(name = 'gated'): ActionDefinition & { calls: ActionContext[]; calledAt: number[]; release(): void; observedAborts: unknown[] } {
  const gate = deferred();
  const calls: ActionContext[] = [];
  const calledAt: number[] = [];
  const observedAborts: unknown[] = [];
  return {
    name,
    calls,
    calledAt,
    observedAborts,
    release: () => gate.resolve(),
    handler: async (input, ctx) => {
      calls.push(ctx);
      calledAt.push(Date.now());
      ctx.signal.addEventListener('abort', () => observedAborts.push(ctx.signal.reason));
      await gate.promise;
      return { done: input.n ?? true };
    },
  };
}
