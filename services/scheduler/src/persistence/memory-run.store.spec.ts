import { MemoryRunStore } from './memory-run.store';
import type { RunState } from '@weft/core';
import { byKey } from '../testing/run-store.contract.context';
import { bump, runningRun, transition } from '../testing/run-store.fixtures';
import { describeRunStoreContract } from '../testing/run-store.contract';

describeRunStoreContract('memory', async (options) => {
  const store = new MemoryRunStore(Date.now, options);
  return { store, cleanup: () => store.close() };
});

describe('MemoryRunStore lease index', () => {
  it('finds expired leases without reading any run\'s whole steps record (issue 15, W6: the scan ran every poll over every step)', async () => {
    const store = new MemoryRunStore(() => 0);
    const live = runningRun('big-run');
    live.steps = { ...live.steps, validate: { ...live.steps.validate, status: 'running', attempt: 1, leaseExpiresAt: 2_000 } };
    let traps = 0;
    // A record that counts what reads it: the old scan took its keys and each step, every poll.
    const counted = (steps: RunState['steps']): RunState['steps'] =>
      new Proxy(steps, {
        ownKeys: (target) => (traps++, Reflect.ownKeys(target)),
        get: (target, key, receiver) => (traps++, Reflect.get(target, key, receiver)),
        getOwnPropertyDescriptor: (target, key) => (traps++, Reflect.getOwnPropertyDescriptor(target, key)),
      });
    await store.createRun('key', () => transition({ ...live, steps: counted(live.steps) }));
    await store.updateRun(live.runId, (current) => {
      const next = bump(current, 'ingest', { status: 'queued', attempt: 3, leaseExpiresAt: 1_000 });
      return transition({ ...next, steps: counted(next.steps) });
    });
    traps = 0;
    const expired = await store.expiredLeases(3_000, 10);
    expect([...expired].sort(byKey)).toEqual(
      [
        { runId: live.runId, stepId: 'ingest', attempt: 3 },
        { runId: live.runId, stepId: 'validate', attempt: 1 },
      ].sort(byKey),
    );
    // Two leased steps, each checked against the current record once; nothing else of the record read.
    expect(traps).toBeLessThanOrEqual(2 * 2);
  });
});
