import type { RunState, WorkflowSpec } from '@weft/core';
import type { InMemoryBus } from '@weft/bus';
import { MemoryEarlyCancels } from '../persistence/early-cancels.store';
import type { MemoryRunStore } from '../persistence/memory-run.store';
import { EARLY_CANCEL_TTL_MS } from '../ports/run-store.port';
import { silentSchedulerLogger } from '../ports/scheduler-logger.port';
import type { WorkflowCatalog } from '../ports/workflow-catalog.port';
import { waitFor } from '../testing/run-store.fixtures';
import { memoryShell, startedForEachTest } from '../testing/started-for-each-test.util';
import { DeliveryHold } from './delivery-hold';
import { RunCancelRequestedHandler } from './run-cancel-requested.handler';

/**
 * A trigger's cancel-other may ask to cancel a run whose request the scheduler has not taken
 * yet (cancels and run requests have their own consumers). Whichever comes first, the run ends
 * canceled (DESIGN.md §8).
 */
const nap: WorkflowSpec = { apiVersion: 'weft/v1', kind: 'Workflow', name: 'nap', steps: [{ id: 'nap', action: 'sleep', with: { duration: '1h' } }] };
const catalog: WorkflowCatalog = { resolve: async (name) => (name === 'nap' ? { spec: nap, version: '1' } : undefined) };

let bus: InMemoryBus;
let store: MemoryRunStore;

startedForEachTest(() => {
  const shell = memoryShell({ catalog });
  ({ bus, store } = shell);
  return shell;
});

const settled = (group: string): Promise<true> =>
  waitFor(async () => ((await bus.consumerStats()).filter((c) => c.group === group).every((c) => c.pending === 0 && c.ackPending === 0) ? true : undefined), `${group} settled`, 10_000, 10);

const status = (runId: string, wanted: string): Promise<RunState> =>
  waitFor(async () => {
    const run = await store.getRun(runId);
    return run?.status === wanted ? run : undefined;
  }, `run ${runId} ${wanted}`, 10_000, 10);

describe('a cancel that arrives before its run', () => {
  it("is kept, and the trigger's run it names is canceled with its reason once created", async () => {
    await bus.publish('weft.run.cancel-requested', { runId: 'early-1', reason: 'canceled by the overlap policy cancel-other of its trigger' });
    await settled('scheduler-cancels');
    expect(await store.getRun('early-1')).toBeUndefined();

    await bus.publish('weft.run.requested', { idempotencyKey: 'trigger:nap:replace:1', runId: 'early-1', workflow: 'nap', inputs: {}, source: 'trigger:replace' });
    const run = await status('early-1', 'canceled');
    expect(run.error?.message ?? JSON.stringify(run)).toContain('cancel-other');
    // Taken: nothing is left to cancel a later run of the same id.
    expect(await store.earlyCancels.take('early-1')).toBeUndefined();
  });

  it('a cancel for a run that exists cancels it at once and keeps nothing', async () => {
    await bus.publish('weft.run.requested', { idempotencyKey: 'trigger:nap:replace:2', runId: 'late-1', workflow: 'nap', inputs: {}, source: 'trigger:replace' });
    await waitFor(() => store.getRun('late-1'), 'run late-1 created', 10_000, 10);
    await bus.publish('weft.run.cancel-requested', { runId: 'late-1', reason: 'replaced' });
    await status('late-1', 'canceled');
    await settled('scheduler-cancels');
    expect(await store.earlyCancels.take('late-1')).toBeUndefined();
  });

  it('a run created between the first look and the remembering is found by the second look (and nothing is kept)', async () => {
    const early = new MemoryEarlyCancels(Date.now);
    const looks: string[] = [];
    let created = false;
    const transitions = {
      cancel: async (runId: string) => {
        looks.push(runId);
        if (!created) {
          created = true; // the run's request commits right after this look
          return undefined;
        }
        return { runId } as RunState;
      },
    };
    const handler = new RunCancelRequestedHandler(transitions, new DeliveryHold(silentSchedulerLogger), early);
    await handler.handle({ data: { runId: 'between', reason: 'replaced' }, subject: 'weft.run.cancel-requested', working: async () => {} } as never);
    expect(looks).toEqual(['between', 'between']);
    expect(await early.take('between')).toBeUndefined();
  });

  it('kept cancels no run took are dropped after a day', async () => {
    let now = 1_000_000;
    const early = new MemoryEarlyCancels(() => now);
    await early.remember('never-created', 'replaced');
    now += EARLY_CANCEL_TTL_MS + 1;
    await early.remember('another', 'replaced');
    expect(await early.take('never-created')).toBeUndefined();
    expect(await early.take('another')).toBe('replaced');
  });
});
