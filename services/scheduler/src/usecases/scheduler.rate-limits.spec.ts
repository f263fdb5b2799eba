import { explainRun, type RunState } from '@weft/core';
import { defineAction } from '@weft/worker';
import type { MemoryRunStore } from '../persistence/memory-run.store';
import { MemorySlotStore } from '../persistence/memory-slot.store';
import type { RateReservation } from '../ports/rate-limit-store.port';
import type { Scheduler } from '../scheduler';
import { runFinished } from '../testing/run-finished.util';
import { waitFor } from '../testing/run-store.fixtures';
import { customerFlow } from '../testing/flow-control.fixtures';
import { memoryShell, startedForEachTest } from '../testing/started-for-each-test.util';

/** Issue 16 item 4: rate limits through the scheduler shell (in-memory bus, store and TATs). */
let store: MemoryRunStore;
let slots: MemorySlotStore;
let scheduler: Scheduler;
/** Every permit the store reserved: the request (a RateRequested, with its run) and its start. */
const permits: { runId: string; key: string; startAt: number }[] = [];

const work = defineAction<{ key: string }>({ name: 'work', handler: async ({ key }) => ({ key }) });

startedForEachTest(async () => {
  permits.length = 0;
  slots = new MemorySlotStore();
  const reserve = slots.rates.reserve.bind(slots.rates);
  jest.spyOn(slots.rates, 'reserve').mockImplementation(async (r: RateReservation & { runId?: string }) => {
    const permit = await reserve(r);
    permits.push({ runId: r.runId ?? '', key: r.key, startAt: permit.startAt });
    return permit;
  });
  const shell = memoryShell({ slots }, [work], { concurrency: 64 });
  ({ store, scheduler } = shell);
  return shell;
});

const spec = customerFlow('metered', { rateLimit: { limit: 5, period: '1s', key: '${{ inputs.customer }}' } });

let n = 0;
const start = (customer: string): Promise<string> => scheduler.startRun({ idempotencyKey: `k${++n}`, workflow: spec.name, spec, inputs: { customer } }).then((r) => r.runId);

describe('rate limits in the scheduler', () => {
  it('6 runs of one key at 5/s: permits one interval (200 ms) apart, nobody dispatched before its permit, why says until when; another key is not held up', async () => {
    const ids = await Promise.all(Array.from({ length: 6 }, () => start('a')));
    const other = await start('b');
    // The last of key a waits for a permit ~1 s ahead: why names its time.
    const waiting = await waitFor(async () => {
      for (const id of ids) {
        const run = await store.getRun(id);
        const wait = run?.steps['call']?.wait;
        if (run && wait?.kind === 'rate' && wait.until !== undefined) return run;
      }
      return undefined;
    }, 'a run waiting for a later permit', 15_000);
    const why = explainRun(waiting, { now: Date.now() }).steps[0];
    expect(why?.reason.kind).toBe('rate-limited');
    expect(why?.text).toMatch(/^rate limited until \d{4}-\d\d-\d\dT.* \(key "a", 5 per 1000ms\)$/);

    const done = await Promise.all([...ids, other].map((id) => runFinished(store, id, 15_000)));
    expect(done.map((r: RunState) => r.status)).toEqual([...ids, other].map(() => 'completed'));
    const ofA = permits.filter((p) => p.key === 'a').sort((x, y) => x.startAt - y.startAt);
    expect(ofA).toHaveLength(6);
    for (let i = 1; i < ofA.length; i++) expect((ofA[i]?.startAt ?? 0) - (ofA[i - 1]?.startAt ?? 0)).toBeGreaterThanOrEqual(200 - 1e-6);
    for (const run of done) {
      const permit = permits.find((p) => p.runId === run.runId);
      expect(run.steps['call']?.attempts[0]?.dispatchedAt).toBeGreaterThanOrEqual(Math.floor(permit?.startAt ?? Infinity));
    }
    // Key b asked after all of a: its permit is not queued behind a's.
    const b = permits.find((p) => p.key === 'b');
    expect(b?.startAt).toBeLessThan(ofA[5]?.startAt ?? 0);
  });
});
