import { InMemoryBus } from '@weft/bus';
import type { RunState, WorkflowSpec } from '@weft/core';
import { builtinActions, createWorker, silentLogger, type Worker } from '@weft/worker';
import { MemoryRunStore } from '../persistence/memory-run.store';
import { runFinished } from '../testing/run-finished.util';
import { waitUntil } from '../testing/run-store.fixtures';
import type { OutboxRecord } from '../ports/run-store.port';
import { Scheduler } from '../scheduler';

const CHAIN: WorkflowSpec = {
  apiVersion: 'weft/v1',
  kind: 'Workflow',
  name: 'outbox-chain',
  steps: [
    { id: 'a', action: 'noop' },
    { id: 'b', needs: ['a'], action: 'noop' },
    { id: 'c', needs: ['b'], action: 'noop' },
  ],
};

const CLAIM_MS = 300;

/**
 * The store's clock, moved only by the test: a claim lapses when the test says so, never
 * because the machine was slow. (Leases never expire either: the steps are instant noops.)
 */
let clock: number;

let bus: InMemoryBus;
let store: MemoryRunStore;
let scheduler: Scheduler;
let worker: Worker;
/** What the relay scan handed out, and every markPublished call. */
let relayed: OutboxRecord[];
let marked: string[][];
let beforePublish: OutboxRecord[][];

beforeEach(async () => {
  bus = new InMemoryBus({ onError: () => {} });
  clock = Date.now();
  store = new MemoryRunStore(() => clock, { outboxClaimMs: CLAIM_MS });
  relayed = [];
  marked = [];
  beforePublish = [];
  const pending = store.pendingOutbox.bind(store);
  store.pendingOutbox = async (limit) => {
    const rows = await pending(limit);
    relayed.push(...rows);
    return rows;
  };
  const mark = store.markPublished.bind(store);
  store.markPublished = async (ids) => {
    marked.push([...ids]);
    return mark(ids);
  };
  scheduler = new Scheduler({ bus, store, pollIntervalMs: 20, beforePublish: (rows) => void beforePublish.push([...rows]) });
  worker = createWorker({ bus, queues: ['*'], actions: builtinActions(), logger: silentLogger, announceIntervalMs: 0, shutdownGraceMs: 100 });
});

afterEach(async () => {
  await worker.stop();
  await scheduler.stop();
  await bus.close();
});

const finished = (runId: string): Promise<RunState> => runFinished(store, runId);

/** Starts the scheduler and worker, runs CHAIN to its end (it completes) and stops the scheduler. */
async function chainCompleted(idempotencyKey: string): Promise<void> {
  await scheduler.start();
  await worker.start();
  const { runId } = await scheduler.startRun({ idempotencyKey, workflow: CHAIN.name, spec: CHAIN, inputs: {} });
  expect((await finished(runId)).status).toBe('completed');
  await scheduler.stop();
}

describe('scheduler outbox: publish from the committing process', () => {
  it('publishes each transition\'s rows right after the commit and marks them in batches; the relay scan finds nothing', async () => {
    await chainCompleted('k-chain');

    expect(relayed).toEqual([]);
    // Every row went through the seam before its publish, and every one was marked, once.
    const published = beforePublish.flat().map((row) => row.id);
    expect(published.length).toBeGreaterThan(0);
    expect(marked.flat().sort()).toEqual([...published].sort());
    expect(new Set(marked.flat()).size).toBe(published.length);
    expect(await store.stats()).toMatchObject({ outboxBacklog: 0 });
  });

  it('sends a row whose publish failed again on the next scan, long before its claim lapses; marked once, the relay never needed', async () => {
    const publish = bus.publish.bind(bus);
    let failed: string | undefined;
    bus.publish = (async (subject, payload, options) => {
      if (failed === undefined && subject.startsWith('weft.step.dispatch.')) {
        failed = options?.msgId;
        throw new Error('broker unavailable');
      }
      return publish(subject, payload, options);
    }) as typeof bus.publish;
    // The store's clock stands still, so the claim never lapses: only a scan's re-send can finish the run.
    await chainCompleted('k-fail');

    expect(failed).toBeDefined();
    expect(relayed).toEqual([]);
    const failedId = beforePublish.flat().find((row) => row.msgId === failed)?.id;
    expect(failedId).toBeDefined();
    expect(marked.filter((ids) => ids.includes(failedId ?? '')).length).toBe(1);
    expect(await store.stats()).toMatchObject({ outboxBacklog: 0 });
  });

  it('leaves a row the relay publishes once its claim lapses when this process never gets it out', async () => {
    let relayScans = 0;
    let scansAtFailure: number | undefined;
    const publish = bus.publish.bind(bus);
    let failed: string | undefined;
    // The first dispatch fails every time this process sends it (as if only this scheduler's connection were broken).
    bus.publish = (async (subject, payload, options) => {
      if (subject.startsWith('weft.step.dispatch.') && (failed === undefined || failed === options?.msgId) && relayed.length === 0) {
        failed = options?.msgId;
        scansAtFailure ??= relayScans;
        throw new Error('broker unavailable');
      }
      return publish(subject, payload, options);
    }) as typeof bus.publish;
    const pending = store.pendingOutbox.bind(store);
    store.pendingOutbox = async (limit) => {
      relayScans += 1;
      return pending(limit);
    };
    await scheduler.start();
    await worker.start();
    const { runId } = await scheduler.startRun({ idempotencyKey: 'k-lapse', workflow: CHAIN.name, spec: CHAIN, inputs: {} });
    // While the claim holds, scans come and go and nobody hands the row out: the run waits for its first step.
    await waitUntil(() => scansAtFailure !== undefined && relayScans >= scansAtFailure + 5, 'five relay scans after the failure');
    expect(relayed).toEqual([]);
    expect((await store.getRun(runId))?.status).toBe('running');
    expect((await store.getRun(runId))?.steps.a.status).toBe('queued');
    // The claim lapses (store time): the relay hands out the row and the run finishes.
    clock += CLAIM_MS;
    expect((await finished(runId)).status).toBe('completed');
    await scheduler.stop();
    // The relay handed out exactly the failed row, once its claim lapsed.
    expect(relayed.map((row) => row.msgId)).toEqual([failed]);
    expect(await store.stats()).toMatchObject({ outboxBacklog: 0 });
  });
});
