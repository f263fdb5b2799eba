import { InMemoryBus } from '@weft/bus';
import { SUBJECTS } from '@weft/contracts';
import type { RunState, WorkflowSpec } from '@weft/core';
import { builtinActions, createWorker, silentLogger, sleepAction, type Worker } from '@weft/worker';
import { MemoryRunStore } from '../persistence/memory-run.store';
import type { OutboxRecord } from '../ports/run-store.port';
import { Scheduler } from '../scheduler';

/**
 * How a step's start reaches the run: a short step's executor sends only its result (the core
 * starts and ends the attempt in one transition); a longer one sends the started heartbeat
 * after the executor's delay. Readers must see the same lifecycle events either way.
 */

const chain = (action: { action: string; with?: Record<string, unknown> }): WorkflowSpec => ({
  apiVersion: 'weft/v1',
  kind: 'Workflow',
  name: 'report-chain',
  steps: [
    { id: 'a', ...action },
    { id: 'b', needs: ['a'], ...action },
    { id: 'c', needs: ['b'], ...action },
  ],
});

const EXPECTED_EVENTS = [
  'run.queued',
  'run.started',
  'step.queued:a',
  'step.started:a',
  'step.completed:a',
  'step.queued:b',
  'step.started:b',
  'step.completed:b',
  'step.queued:c',
  'step.started:c',
  'step.completed:c',
  'run.completed',
];

let bus: InMemoryBus;
let store: MemoryRunStore;
let scheduler: Scheduler;
let worker: Worker | undefined;
let rows: OutboxRecord[];
let published: string[];
let updates: number;

beforeEach(() => {
  bus = new InMemoryBus({ onError: () => {} });
  store = new MemoryRunStore(Date.now);
  rows = [];
  published = [];
  updates = 0;
  const publish = bus.publish.bind(bus);
  bus.publish = (subject, payload, options) => {
    if (subject === SUBJECTS.stepHeartbeat) published.push(`heartbeat:${(payload as { phase: string }).phase}`);
    if (subject === SUBJECTS.stepResult) published.push('result');
    return publish(subject, payload, options);
  };
  const updateRun = store.updateRun.bind(store);
  store.updateRun = (...args) => {
    updates += 1;
    return updateRun(...args);
  };
  scheduler = new Scheduler({ bus, store, pollIntervalMs: 20, beforePublish: (batch) => void rows.push(...batch) });
});

afterEach(async () => {
  await worker?.stop();
  await scheduler.stop();
  await bus.close();
});

async function run(spec: WorkflowSpec, startedReportDelayMs?: number): Promise<{ state: RunState; events: string[] }> {
  // `sleep` is a durable wait the scheduler holds; a step that takes time in the executor is this.
  worker = createWorker({ bus, queues: ['*'], actions: [...builtinActions(), { ...sleepAction, name: 'pause' }], logger: silentLogger, announceIntervalMs: 0, shutdownGraceMs: 100, startedReportDelayMs });
  await scheduler.start();
  await worker.start();
  const { runId } = await scheduler.startRun({ idempotencyKey: `k-${spec.name}`, workflow: spec.name, spec, inputs: {} });
  const deadline = Date.now() + 10_000;
  let state = await store.getRun(runId);
  while (state?.status !== 'completed') {
    if (Date.now() > deadline) throw new Error(`run did not complete (status ${state?.status})`);
    await new Promise((resolve) => setTimeout(resolve, 10));
    state = await store.getRun(runId);
  }
  await scheduler.stop();
  const events = rows
    .filter((row) => row.subject.startsWith(SUBJECTS.eventPrefix))
    .map((row) => row.payload as { type: string; stepId?: string })
    .map((e) => (e.stepId ? `${e.type}:${e.stepId}` : e.type));
  return { state, events };
}

describe('scheduler and executor: reporting a step start', () => {
  it('a short step is one message and one transition, with the same events as ever', async () => {
    const { state, events } = await run(chain({ action: 'noop' }));
    expect(published).toEqual(['result', 'result', 'result']);
    expect(updates).toBe(3);
    expect(events).toEqual(EXPECTED_EVENTS);
    for (const id of ['a', 'b', 'c']) {
      const step = state.steps[id];
      // Started and finished in the result's transition: one database time for both.
      expect(step?.startedAt).toBe(step?.finishedAt);
      expect(step?.attempts).toEqual([expect.objectContaining({ status: 'completed', startedAt: step?.startedAt, workerId: worker?.workerId })]);
    }
  });

  it('with the started heartbeat sent first (startedReportDelayMs 0, the old executor) the events are the same', async () => {
    const { events } = await run(chain({ action: 'noop' }), 0);
    expect(published.filter((p) => p === 'heartbeat:started')).toHaveLength(3);
    expect(events).toEqual(EXPECTED_EVENTS);
  });

  it('a step longer than the delay sends the started heartbeat, then its result; the same events', async () => {
    const { state, events } = await run(chain({ action: 'pause', with: { duration: '60ms' } }), 10);
    expect(published).toEqual(['heartbeat:started', 'result', 'heartbeat:started', 'result', 'heartbeat:started', 'result']);
    expect(events).toEqual(EXPECTED_EVENTS);
    expect(state.steps.a?.startedAt).toBeLessThan(state.steps.a?.finishedAt ?? 0);
  });
});
