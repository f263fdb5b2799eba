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
/** Every permit the store reserved: the request (a RateRequested, with its run and token) and its start. */
const permits: { runId: string; token: string; key: string; startAt: number }[] = [];
/** Added to every start the store reserves (the SQL store's starts are database time to the microsecond). */
let fraction = 0;

const work = defineAction<{ key: string }>({ name: 'work', handler: async ({ key }) => ({ key }) });

startedForEachTest(async () => {
  permits.length = 0;
  fraction = 0;
  slots = new MemorySlotStore();
  const reserve = slots.rates.reserve.bind(slots.rates);
  jest.spyOn(slots.rates, 'reserve').mockImplementation(async (r: RateReservation & { runId?: string; token?: string }) => {
    const permit = { startAt: (await reserve(r)).startAt + fraction };
    permits.push({ runId: r.runId ?? '', token: r.token ?? '', key: r.key, startAt: permit.startAt });
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
    // One permit per request. A timer that fires past the permit's grace (200 ms: a scheduler
    // stalled by a loaded machine) gives the permit up and asks again with a token of its own
    // (`...:rate:1.2`, docs/flow-control.md), so a run of a may hold a second, later permit.
    expect(new Set(permits.map((p) => p.token)).size).toBe(permits.length);
    const firstAsks = ofA.filter((p) => p.token.endsWith(':rate:1'));
    expect(firstAsks.map((p) => p.runId).sort()).toEqual([...ids].sort());
    for (const p of ofA) expect(p.token).toMatch(/:call:rate:1(\.2)?$/);
    for (let i = 1; i < ofA.length; i++) expect((ofA[i]?.startAt ?? 0) - (ofA[i - 1]?.startAt ?? 0)).toBeGreaterThanOrEqual(200 - 1e-6);
    for (const run of done) {
      const last = permits.filter((p) => p.runId === run.runId).at(-1);
      expect(run.steps['call']?.attempts[0]?.dispatchedAt).toBeGreaterThanOrEqual(Math.floor(last?.startAt ?? Infinity));
    }
    // Key b asked after all of a: its permit is not queued behind a's.
    const b = permits.find((p) => p.key === 'b');
    expect(b?.startAt).toBeLessThan(Math.max(...firstAsks.map((p) => p.startAt)));
  });

  it('a permit time to the microsecond waits until the next whole millisecond, and the run completes', async () => {
    fraction = 0.456;
    const ids = await Promise.all(Array.from({ length: 3 }, () => start('c')));
    const waiting = await waitFor(async () => {
      const runs = await Promise.all(ids.map((id) => store.getRun(id)));
      return runs.find((run) => run?.steps['call']?.wait?.kind === 'rate' && run.steps['call'].wait.until !== undefined);
    }, 'a run waiting for a later permit', 15_000);
    const step = waiting.steps['call'];
    const wait = step?.wait;
    const permit = permits.find((p) => p.token === step?.token);
    expect(wait?.kind === 'rate' && wait.until).toBe(Math.ceil(permit?.startAt ?? NaN));
    const done = await Promise.all(ids.map((id) => runFinished(store, id, 15_000)));
    expect(done.map((r: RunState) => r.status)).toEqual(['completed', 'completed', 'completed']);
  });
});
