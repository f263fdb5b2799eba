import type { RunState, WorkflowSpec } from '@weft/core';
import { defineAction } from '@weft/worker';
import { customerFlow, SlotShell } from '../testing/flow-control.fixtures';
import { runFinished } from '../testing/run-finished.util';
import { waitFor } from '../testing/run-store.fixtures';

/** Issue 16 item 3: a workflow's own concurrency limit (runs), its strategies (and a step's), through the scheduler shell in memory. */
const shell = new SlotShell();
const { counts, gate } = shell;
/** Runs in their step now, per key, and the most seen at once. */
const { running, most } = counts;

const work = defineAction<{ key: string }>({
  name: 'work',
  handler: async ({ key }, { signal }) => {
    counts.enter(key);
    try {
      await Promise.race([gate.passed(), new Promise((resolve) => signal.addEventListener('abort', resolve))]);
      return { key };
    } finally {
      counts.leave(key);
    }
  },
});

shell.forEachTest(work, { gateClosed: true });

const specWith = (strategy: 'queue' | 'cancel-in-progress' | 'cancel-newest', limit: number): WorkflowSpec => ({
  apiVersion: 'weft/v1',
  kind: 'Workflow',
  name: `sync-${strategy}`,
  inputs: { customer: { type: 'string', required: true } },
  concurrency: { limit, key: '${{ inputs.customer }}', strategy },
  steps: [{ id: 'call', action: 'work', with: { key: '${{ inputs.customer }}' } }],
});

let n = 0;
const start = (spec: WorkflowSpec, customer: string): Promise<string> => shell.scheduler.startRun({ idempotencyKey: `k${++n}`, workflow: spec.name, spec, inputs: { customer } }).then((r) => r.runId);
const statusOf = async (id: string): Promise<RunState['status'] | undefined> => (await shell.store.getRun(id))?.status;
/** Starts a run for key `a`, waits until it is in its step (holding the slot), then starts a second one for `a`. */
const holderThenNewer = async (spec: WorkflowSpec): Promise<[string, string]> => {
  const first = await start(spec, 'a');
  await waitFor(async () => (running.get('a') === 1 ? true : undefined), 'the first run in its step', 10_000);
  return [first, await start(spec, 'a')];
};

describe('a workflow concurrency limit in the scheduler', () => {
  it('queue: 2 keys x 4 runs with limit 1 run one at a time per key, the others queued, and all complete', async () => {
    const spec = specWith('queue', 1);
    const ids = await Promise.all(['a', 'b'].flatMap((k) => Array.from({ length: 4 }, () => start(spec, k))));
    await waitFor(async () => (running.get('a') === 1 && running.get('b') === 1 ? true : undefined), 'one run per key in its step', 10_000);
    const states = await Promise.all(ids.map((id) => shell.store.getRun(id)));
    expect(states.filter((r) => r?.status === 'queued' && r.admission !== undefined)).toHaveLength(6);
    gate.open();
    const done = await Promise.all(ids.map((id) => runFinished(shell.store, id, 15_000)));
    expect(done.map((r) => r.status)).toEqual(ids.map(() => 'completed'));
    expect(Object.fromEntries(most)).toEqual({ a: 1, b: 1 });
    await waitFor(async () => ((await shell.slots.holders('default', spec.name, 'a')).length === 0 ? true : undefined), 'every slot back', 5_000);
  });

  it('cancel-newest: a run over the limit is canceled, the one holding the slot goes on', async () => {
    const spec = specWith('cancel-newest', 1);
    const [first, second] = await holderThenNewer(spec);
    const canceled = await runFinished(shell.store, second, 10_000);
    expect(canceled.status).toBe('canceled');
    expect(canceled.error?.message).toMatch(/over the concurrency limit of 1 for key "a" \(cancel-newest\)/);
    expect(await statusOf(first)).toBe('running');
    gate.open();
    expect((await runFinished(shell.store, first, 10_000)).status).toBe('completed');
  });

  it('a step-level cancel-newest: the step of a run over the limit fails with CONCURRENCY_CANCELED, the holder goes on', async () => {
    const spec = customerFlow('step-newest', { concurrency: { limit: 1, key: '${{ inputs.customer }}', strategy: 'cancel-newest' } });
    const [first, second] = await holderThenNewer(spec);
    const failed = await runFinished(shell.store, second, 10_000);
    expect(failed.status).toBe('failed');
    expect(failed.steps['call']?.error).toMatchObject({ code: 'CONCURRENCY_CANCELED', message: expect.stringMatching(/cancel-newest/) });
    gate.open();
    expect((await runFinished(shell.store, first, 10_000)).status).toBe('completed');
  });

  it('a step-level cancel-in-progress: a newer attempt takes the slot, the holder\'s attempt is aborted and its step fails with CONCURRENCY_CANCELED', async () => {
    const spec = customerFlow('step-progress', { concurrency: { limit: 1, key: '${{ inputs.customer }}', strategy: 'cancel-in-progress' } });
    const [first, second] = await holderThenNewer(spec);
    const failed = await runFinished(shell.store, first, 10_000);
    expect(failed.steps['call']?.error).toMatchObject({ code: 'CONCURRENCY_CANCELED', message: expect.stringMatching(/cancel-in-progress/) });
    // The aborted handler let go; the newer run's step runs and completes.
    gate.open();
    expect((await runFinished(shell.store, second, 10_000)).status).toBe('completed');
  });

  it('cancel-in-progress: a new run cancels the run holding the slot and runs', async () => {
    const spec = specWith('cancel-in-progress', 1);
    const [first, second] = await holderThenNewer(spec);
    const canceled = await runFinished(shell.store, first, 10_000);
    expect(canceled.status).toBe('canceled');
    expect(canceled.error?.message).toMatch(/a newer run took its concurrency slot of key "a" \(cancel-in-progress\)/);
    gate.open();
    expect((await runFinished(shell.store, second, 10_000)).status).toBe('completed');
  });
});
