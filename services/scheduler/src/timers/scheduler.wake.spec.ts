import { InMemoryBus } from '@weft/bus';
import type { WorkflowSpec } from '@weft/core';
import { builtinActions, createWorker, silentLogger, type Worker } from '@weft/worker';
import { MemoryRunStore } from '../persistence/memory-run.store';
import { Scheduler } from '../scheduler';

/**
 * Timers a transition schedules bring the next scan forward, with no poll to rely on: a
 * retry's backoff fires on time although the poll interval is a minute, and the wake-up
 * is computed from the decision's own database time (no extra `now()` query per transition).
 */
const flaky: WorkflowSpec = {
  apiVersion: 'weft/v1',
  kind: 'Workflow',
  name: 'wake',
  steps: [{ id: 'flaky', action: 'fail', with: { untilAttempt: 3 }, retry: { maxAttempts: 3, backoff: 'fixed', initialInterval: '150ms', jitter: false } }],
};

let bus: InMemoryBus;
let store: MemoryRunStore;
let scheduler: Scheduler;
let worker: Worker;

beforeEach(() => {
  bus = new InMemoryBus({ onError: () => {} });
  store = new MemoryRunStore(Date.now);
  scheduler = new Scheduler({ bus, store, pollIntervalMs: 60_000 });
  worker = createWorker({ bus, queues: ['*'], actions: builtinActions(), logger: silentLogger, announceIntervalMs: 0, shutdownGraceMs: 100 });
});

afterEach(async () => {
  await worker.stop();
  await scheduler.stop();
  await bus.close();
});

it('wakes for a retry backoff on time with a one-minute poll, asking the store for the time only per scan', async () => {
  let nowCalls = 0;
  const now = store.now.bind(store);
  store.now = () => {
    nowCalls += 1;
    return now();
  };
  // Each scan (TimerScan.tick) asks for the due timers once.
  let scans = 0;
  const dueTimers = store.dueTimers.bind(store);
  store.dueTimers = (...args) => {
    scans += 1;
    return dueTimers(...args);
  };
  await scheduler.start();
  await worker.start();
  const started = Date.now();
  const { runId } = await scheduler.startRun({ idempotencyKey: 'wake-1', workflow: flaky.name, spec: flaky, inputs: {} });
  let state = await store.getRun(runId);
  while (state?.status !== 'completed' && Date.now() - started < 10_000) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    state = await store.getRun(runId);
  }
  const took = Date.now() - started;
  expect(state).toMatchObject({ status: 'completed', steps: { flaky: { attempt: 3, status: 'completed' } } });
  // Two backoffs of 150 ms, each ended by a scan a transition scheduled (the poll is a minute away).
  expect(took).toBeGreaterThanOrEqual(300);
  expect(took).toBeLessThan(5_000);
  expect(scans).toBeGreaterThanOrEqual(2);
  // Each scan reads the time twice (the scan, then its next wake-up); transitions read none.
  expect(nowCalls).toBeLessThanOrEqual(2 * scans);
});
