import { SpanStatusCode } from '@opentelemetry/api';
import { InMemoryBus } from '@weft/bus';
import { dispatchSubject, type StepDispatch, SUBJECTS } from '@weft/contracts';
import { inSpan, installInMemoryTracing, metricValue, renderMetrics, traceIdOf } from '@weft/telemetry';
import { deferred, waitFor } from './__fixtures__/wait.fixture';
import type { ActionDefinition } from './action.types';
import { silentLogger } from './logger.util';
import { createWorker, type Worker } from './worker';

const tracing = installInMemoryTracing();

let bus: InMemoryBus;
let worker: Worker | undefined;
let resultTraces: Map<string, string | undefined>;

beforeEach(async () => {
  tracing.reset();
  bus = new InMemoryBus({ onError: () => {} });
  resultTraces = new Map();
  await bus.consume(SUBJECTS.stepResult, { group: 'test-scheduler' }, async (d) => void resultTraces.set(d.data.token, traceIdOf()));
});

afterEach(async () => {
  await worker?.stop();
  worker = undefined;
  await bus.close();
});

async function start(actions: ActionDefinition[], queues = ['io']): Promise<Worker> {
  worker = createWorker({ bus, queues, actions, logger: silentLogger, shutdownGraceMs: 100, announceIntervalMs: 0 });
  await worker.start();
  return worker;
}

function makeDispatch(stepId: string, overrides: Partial<StepDispatch> = {}): StepDispatch {
  const attempt = overrides.attempt ?? 1;
  return { runId: 'run-t', workflow: 'traced', stepId, attempt, token: `run-t:${stepId}:${attempt}`, action: 'echo', input: {}, queue: 'io', timeoutMs: 5000, ...overrides };
}

/** Publishes inside a span standing in for the scheduler's run span; resolves with its trace id. */
async function publishTraced(message: StepDispatch): Promise<string | undefined> {
  return inSpan('run', {}, async () => {
    await bus.publish(dispatchSubject(message.queue), message, { msgId: message.token });
    return traceIdOf();
  });
}

const echo: ActionDefinition = { name: 'echo', handler: async () => ({ ok: true }) };

describe('worker telemetry', () => {
  it('runs each attempt in a step span of the dispatch trace, and the result carries that trace on', async () => {
    await start([echo]);
    const message = makeDispatch('a');
    const traceId = await publishTraced(message);
    await waitFor(() => resultTraces.has(message.token), 'the result');
    expect(resultTraces.get(message.token)).toBe(traceId);

    await waitFor(() => tracing.spans().some((s) => s.name === 'step echo'), 'the step span');
    const step = tracing.spans().find((s) => s.name === 'step echo');
    const consumer = tracing.spans().find((s) => s.name === 'process weft.step.dispatch.io');
    expect(step?.spanContext().traceId).toBe(traceId);
    expect(step?.parentSpanContext?.spanId).toBe(consumer?.spanContext().spanId);
    expect(step?.attributes).toMatchObject({
      'weft.run.id': 'run-t',
      'weft.workflow': 'traced',
      'weft.step.id': 'a',
      'weft.step.attempt': 1,
      'weft.action': 'echo',
      'weft.queue': 'io',
      'weft.step.outcome': 'completed',
    });
    const resultSend = tracing.spans().find((s) => s.name === 'send weft.step.result');
    expect(resultSend?.parentSpanContext?.spanId).toBe(step?.spanContext().spanId);
  });

  it('records duration, attempts by outcome, retries and dispatch latency', async () => {
    const failing: ActionDefinition = {
      name: 'flaky',
      handler: async () => {
        throw new Error('nope');
      },
    };
    const slow: ActionDefinition = { name: 'slow', handler: (_input, ctx) => new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))) };
    // Metrics live for the whole file: a workflow and queue of its own keep this test's series apart.
    await start([echo, failing, slow], ['metered']);
    const own = { workflow: 'counted', queue: 'metered' };
    const ok = makeDispatch('ok', own);
    const retried = makeDispatch('retry', { ...own, action: 'flaky', attempt: 2 });
    const timedOut = makeDispatch('late', { ...own, action: 'slow', timeoutMs: 30 });
    for (const m of [ok, retried, timedOut]) await publishTraced(m);
    await waitFor(() => resultTraces.size === 3, 'three results');

    expect(await metricValue('weft_step_attempts_total', { workflow: 'counted', action: 'echo', outcome: 'completed' })).toBe(1);
    expect(await metricValue('weft_step_attempts_total', { workflow: 'counted', action: 'flaky', outcome: 'failed' })).toBe(1);
    expect(await metricValue('weft_step_attempts_total', { workflow: 'counted', action: 'slow', outcome: 'timed_out' })).toBe(1);
    expect(await metricValue('weft_step_duration_seconds', { workflow: 'counted', action: 'echo', status: 'completed' })).toBe(1);
    expect(await metricValue('weft_step_duration_seconds', { workflow: 'counted', action: 'slow', status: 'failed' })).toBe(1);
    expect(await metricValue('weft_step_retries_total', { workflow: 'counted', action: 'flaky' })).toBe(1);
    expect(await metricValue('weft_step_retries_total', { workflow: 'counted', action: 'echo' })).toBeUndefined();
    expect(await metricValue('weft_dispatch_latency_seconds', { queue: 'metered' })).toBe(3);

    const text = await renderMetrics();
    // The slow step waited ~30 ms for its timeout: it is not in the 5 ms bucket, but it is by 50 ms.
    expect(text).toContain('weft_step_duration_seconds_bucket{le="0.005",workflow="counted",action="slow",status="failed"} 0');
    expect(text).toContain('weft_step_duration_seconds_bucket{le="14400",workflow="counted",action="slow",status="failed"} 1');

    const failedSpan = tracing.spans().find((s) => s.name === 'step flaky');
    expect(failedSpan?.status).toMatchObject({ code: SpanStatusCode.ERROR, message: 'nope' });
    expect(failedSpan?.attributes).toMatchObject({ 'weft.error.code': 'HANDLER_ERROR', 'weft.step.outcome': 'failed' });
  });

  it('exposes the queues it serves and their depth while running, and withdraws them when stopped', async () => {
    const release = deferred();
    const blocking: ActionDefinition = { name: 'echo', handler: () => release.promise };
    worker = createWorker({ bus, queues: ['io', 'cpu'], actions: [blocking], concurrency: 1, logger: silentLogger, shutdownGraceMs: 100, announceIntervalMs: 0 });
    await worker.start();
    for (const id of ['a', 'b', 'c']) await publishTraced(makeDispatch(id));
    await waitFor(() => worker?.inFlight() === 1, 'one step running');

    const text = await renderMetrics();
    expect(text).toContain('weft_executor_queues{queue="io"} 1');
    expect(text).toContain('weft_executor_queues{queue="cpu"} 1');
    expect(text).toMatch(/weft_queue_depth\{queue="io"\} [12]\n/);
    expect(text).toContain('weft_queue_depth{queue="cpu"} 0');

    release.resolve();
    await worker.stop();
    const after = await renderMetrics();
    expect(after).not.toContain('weft_executor_queues{queue="io"}');
    expect(after).not.toContain('weft_queue_depth{queue="io"}');
  });
});
