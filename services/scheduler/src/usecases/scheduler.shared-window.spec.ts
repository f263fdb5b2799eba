import { InMemoryBus } from '@weft/bus';
import { renderMetrics } from '@weft/telemetry';
import { DEFAULT_DISPATCH_WINDOW, type WorkflowSpec } from '@weft/core';
import { MemoryRunStore } from '../persistence/memory-run.store';
import { Scheduler } from '../scheduler';

/** The scheduler gives a run its default window alone and the shared one beside another active run (no executor: what is dispatched stays queued). */

const flat = (name: string, steps: number, extra: Partial<WorkflowSpec> = {}): WorkflowSpec => ({
  apiVersion: 'weft/v1',
  kind: 'Workflow',
  name,
  steps: Array.from({ length: steps }, (_, i) => ({ id: `s${i}`, action: 'noop' })),
  ...extra,
});

let bus: InMemoryBus;
let store: MemoryRunStore;
let scheduler: Scheduler;

async function queued(spec: WorkflowSpec): Promise<number> {
  const { runId } = await scheduler.startRun({ idempotencyKey: `k-${spec.name}`, workflow: spec.name, spec, inputs: {} });
  const state = await store.getRun(runId);
  return Object.values(state?.steps ?? {}).filter((s) => s.status === 'queued').length;
}

async function boot(sharedWindow?: number): Promise<void> {
  bus = new InMemoryBus({ onError: () => {} });
  store = new MemoryRunStore(Date.now);
  scheduler = new Scheduler({ bus, store, pollIntervalMs: 1_000, ...(sharedWindow !== undefined && { sharedWindow }) });
  await scheduler.start();
}

afterEach(async () => {
  await scheduler.stop();
  await bus.close();
});

describe('scheduler: the dispatch window shared between active runs (WEFT_SHARED_WINDOW)', () => {
  it('dispatches 64 of a run alone, 16 of a run started beside it, and a workflow’s own window as set', async () => {
    await boot();
    expect(await queued(flat('alone', 100))).toBe(DEFAULT_DISPATCH_WINDOW);
    expect(await queued(flat('beside', 100))).toBe(16);
    expect(await queued(flat('own-window', 100, { maxStepsInFlight: 40 }))).toBe(40);
    expect(scheduler.windows.active).toBe(3);
    expect(scheduler.windows.peek('any')).toBe(16);
    expect(await renderMetrics()).toMatch(/^weft_scheduler_active_runs 3$/m);
  });

  it('shares nothing when the shared window is the default one', async () => {
    await boot(DEFAULT_DISPATCH_WINDOW);
    expect(await queued(flat('first', 100))).toBe(DEFAULT_DISPATCH_WINDOW);
    expect(await queued(flat('second', 100))).toBe(DEFAULT_DISPATCH_WINDOW);
  });

  it('takes a configured shared window', async () => {
    await boot(4);
    await queued(flat('first', 10));
    expect(await queued(flat('second', 10))).toBe(4);
  });
});
