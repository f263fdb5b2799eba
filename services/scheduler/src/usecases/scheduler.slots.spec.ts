import { type RunState, TERMINAL_RUN_STATUSES } from '@weft/core';
import { defineAction } from '@weft/worker';
import { waitFor } from '../testing/run-store.fixtures';
import { customerFlow, SlotShell } from '../testing/flow-control.fixtures';

/** Issue 16 item 3: concurrency slots through the scheduler shell (in-memory bus, store and slots). */
const shell = new SlotShell();
const { counts, gate } = shell;
/** Attempts of `work` running now, per key, and the most seen at once. */
const { running, most } = counts;

const work = defineAction<{ key: string }>({
  name: 'work',
  handler: async ({ key }) => {
    counts.enter(key);
    await gate.passed();
    await new Promise((resolve) => setImmediate(resolve));
    counts.leave(key);
    return { key };
  },
});

shell.forEachTest(work, { gateClosed: false });

/** Polls `read` every 10 ms until it answers (bounded: 15 s unless told). */
const until = <T>(read: () => Promise<T | undefined>, what: string, timeoutMs = 15_000): Promise<T> => waitFor(read, what, timeoutMs, 10);

const spec = customerFlow('per-customer', { concurrency: { limit: 2, key: '${{ inputs.customer }}' } });

let n = 0;
const start = (customer: string): Promise<string> => shell.scheduler.startRun({ idempotencyKey: `k${++n}`, workflow: spec.name, spec, inputs: { customer } }).then((r) => r.runId);

describe('concurrency slots in the scheduler', () => {
  it('3 keys x 8 runs with limit 2: never more than 2 per key at once, every run completes, no slot left held', async () => {
    gate.close();
    const ids = await Promise.all(['a', 'b', 'c'].flatMap((k) => Array.from({ length: 8 }, () => start(k))));
    // While the gate holds the first attempts: exactly 2 per key run, the rest wait for a slot.
    await until(async () => (['a', 'b', 'c'].every((k) => running.get(k) === 2) ? true : undefined), 'two attempts per key running');
    const waiting = (await Promise.all(ids.map((id) => shell.store.getRun(id)))).filter((r) => r?.steps['call']?.wait?.kind === 'slot');
    expect(waiting).toHaveLength(18);
    const why = await shell.slots.holders('default', 'per-customer/call', 'a');
    expect(why).toHaveLength(2);
    gate.open();
    const done = await Promise.all(
      ids.map((id) =>
        until(async () => {
          const run = await shell.store.getRun(id);
          return run && TERMINAL_RUN_STATUSES.includes(run.status) ? run : undefined;
        }, `run ${id} to end`),
      ),
    );
    expect(done.map((r: RunState) => r.status)).toEqual(ids.map(() => 'completed'));
    expect(Object.fromEntries(most)).toEqual({ a: 2, b: 2, c: 2 });
    // Each run's release goes out after its last commit: every slot comes back.
    for (const k of ['a', 'b', 'c']) await until(async () => ((await shell.slots.holders('default', 'per-customer/call', k)).length === 0 ? true : undefined), `key ${k}'s slots back`);
  });

  it('a slot whose holder is gone is reclaimed by the reconciler within a lease, and the queue moves on', async () => {
    gate.close();
    const first = await start('x');
    const second = await start('x');
    const third = await start('x');
    await until(async () => (running.get('x') === 2 ? true : undefined), 'two running');
    // The first run vanishes from under its slot (as if its rows were lost): nobody renews the lease.
    const holders = await shell.slots.holders('default', 'per-customer/call', 'x');
    const lost = holders.find((h) => h.runId === first) ?? holders[0];
    await shell.store.updateRun(lost?.runId ?? '', (state) => ({ state: { ...state, steps: Object.fromEntries(Object.entries(state.steps).map(([id, s]) => [id, { ...s, slot: undefined }])), seq: state.seq + 1 }, outbox: [], schedule: [], cancel: [] }), {}).catch(() => undefined);
    const reclaimed = await until(async () => {
      const run = await shell.store.getRun(third);
      return run?.steps['call']?.slot !== undefined ? run : undefined;
    }, 'the third run to get the reclaimed slot', 5_000);
    expect(reclaimed.steps['call']?.slot?.key).toBe('x');
    expect([first, second]).toContain(lost?.runId);
  });
});
