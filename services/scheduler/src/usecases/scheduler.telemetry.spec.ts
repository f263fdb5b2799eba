import { InMemoryBus } from '@weft/bus';
import type { RunState, WorkflowSpec } from '@weft/core';
import { installInMemoryTracing, metricValue, renderMetrics, traceIdOf } from '@weft/telemetry';
import { type ActionDefinition, builtinActions, createWorker, silentLogger, type Worker } from '@weft/worker';
import { MemoryRunStore } from '../persistence/memory-run.store';
import { runFinished } from '../testing/run-finished.util';
import { runTraceContext } from './run-telemetry.util';
import { Scheduler } from '../scheduler';
import { startedForEachTest } from '../testing/started-for-each-test.util';

const tracing = installInMemoryTracing();

const SPEC: WorkflowSpec = {
  apiVersion: 'weft/v1',
  kind: 'Workflow',
  name: 'telemetry-flow',
  steps: [
    { id: 'flaky', action: 'flaky', retry: { maxAttempts: 2, backoff: 'fixed', initialInterval: '20ms', jitter: false } },
    { id: 'after', needs: ['flaky'], action: 'noop' },
  ],
};

let bus: InMemoryBus;
let store: MemoryRunStore;
let scheduler: Scheduler;
let worker: Worker;
const handlerTraces: (string | undefined)[] = [];

startedForEachTest(async () => {
  tracing.reset();
  handlerTraces.length = 0;
  bus = new InMemoryBus({ onError: () => {} });
  store = new MemoryRunStore();
  scheduler = new Scheduler({ bus, store, pollIntervalMs: 20 });
  let calls = 0;
  const flaky: ActionDefinition = {
    name: 'flaky',
    handler: async () => {
      handlerTraces.push(traceIdOf());
      calls += 1;
      if (calls === 1) throw new Error('first attempt fails');
      return { ok: true };
    },
  };
  worker = createWorker({ bus, queues: ['*'], actions: [...builtinActions(), flaky], logger: silentLogger, announceIntervalMs: 0, shutdownGraceMs: 100 });
  return { bus, scheduler, worker };
});

const finished = (runId: string): Promise<RunState> => runFinished(store, runId);

describe('scheduler telemetry', () => {
  it('keeps one run in one trace: start, dispatches, the retry after a timer, step handlers and transitions', async () => {
    const { runId } = await scheduler.startRun({ idempotencyKey: 'k-trace', workflow: SPEC.name, spec: SPEC, inputs: {} });
    const state = await finished(runId);
    expect(state.status).toBe('completed');

    const carrier = runTraceContext(state);
    expect(carrier?.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const runStart = tracing.spans().find((s) => s.name === 'run.start telemetry-flow');
    const traceId = runStart?.spanContext().traceId;
    expect(carrier?.traceparent).toContain(`${traceId}-${runStart?.spanContext().spanId}`);
    expect(tracing.spans().find((s) => s.name === 'run.validate')?.parentSpanContext?.spanId).toBe(runStart?.spanContext().spanId);
    expect(tracing.spans().find((s) => s.name === 'run.persist')?.spanContext().traceId).toBe(traceId);

    // Both attempts of the flaky step ran in the run's trace, the second one dispatched by a retry timer.
    expect(handlerTraces).toEqual([traceId, traceId]);
    const timerFired = tracing.spans().find((s) => s.name === 'run.transition timer.fired');
    expect(timerFired?.spanContext().traceId).toBe(traceId);
    expect(timerFired?.attributes).toMatchObject({ 'weft.run.id': runId, 'weft.timer': 'retry', 'weft.step.id': 'flaky' });

    // Every dispatch and lifecycle event left through the outbox as a child of the run's span.
    const sends = tracing.spans().filter((s) => s.name.startsWith('send weft.step.dispatch') || s.name.startsWith('send weft.event.'));
    expect(sends.length).toBeGreaterThanOrEqual(6);
    for (const send of sends) {
      expect(send.spanContext().traceId).toBe(traceId);
      expect(send.parentSpanContext?.spanId).toBe(runStart?.spanContext().spanId);
    }
    const ids = new Set(tracing.spans().filter((s) => s.attributes['weft.run.id'] === runId).map((s) => s.spanContext().traceId));
    expect([...ids]).toEqual([traceId]);
  });

  it('counts runs started and finished, and samples live runs and the outbox on scrape', async () => {
    const before = (await metricValue('weft_runs_started_total', { workflow: SPEC.name })) ?? 0;
    const finishedBefore = (await metricValue('weft_runs_finished_total', { workflow: SPEC.name, status: 'completed' })) ?? 0;
    const { runId } = await scheduler.startRun({ idempotencyKey: 'k-metrics', workflow: SPEC.name, spec: SPEC, inputs: {} });
    // A repeated request is the same run: not counted twice.
    await scheduler.startRun({ idempotencyKey: 'k-metrics', workflow: SPEC.name, spec: SPEC, inputs: {} });
    expect(await metricValue('weft_runs_started_total', { workflow: SPEC.name })).toBe(before + 1);
    expect(await renderMetrics()).toMatch(/weft_runs_active\{status="running"\} 1\n/);

    await finished(runId);
    expect(await metricValue('weft_runs_finished_total', { workflow: SPEC.name, status: 'completed' })).toBe(finishedBefore + 1);
    // Sampled on scrape: no live run left, and the relay emptied the outbox.
    const text = await scrapeUntil((t) => !t.includes('weft_runs_active{status="running"}') && t.includes('weft_outbox_backlog 0\n'));
    expect(text).toContain('weft_run_oldest_active_age_seconds 0\n');
    expect(text).toContain('weft_outbox_oldest_age_seconds 0\n');
  });

  it('withdraws its gauges when stopped', async () => {
    await scheduler.stop();
    expect(await renderMetrics()).not.toMatch(/^weft_outbox_backlog \d/m);
  });
});

async function scrapeUntil(done: (text: string) => boolean): Promise<string> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const text = await renderMetrics();
    if (done(text)) return text;
    if (Date.now() > deadline) throw new Error(`metrics never reached the expected state:\n${text}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
