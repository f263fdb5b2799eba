import { bump, transition } from '../testing/run-store.fixtures';
import type { RunBatch } from './run-batch.writer';
import { type FairShareOptions, RunUpdateBatcher } from './run-update.batcher';

/** A writer whose transactions stay open until the test settles them. */
class HeldWriter {
  readonly groups: { runs: string[]; sizes: number[]; at: number; settle: () => void }[] = [];

  commitGroup(batches: readonly RunBatch[]): Promise<void> {
    return new Promise<void>((resolve) => {
      this.groups.push({
        runs: batches.map((b) => b.runId),
        sizes: batches.map((b) => b.calls.length),
        at: performance.now(),
        settle: () => {
          for (const b of batches) for (const call of b.calls) call.resolve(undefined);
          resolve();
        },
      });
    });
  }

  /** The transactions of `runId` so far, in the order they started. */
  of(runId: string): { sizes: number[]; at: number; settle: () => void }[] {
    return this.groups.filter((g) => g.runs.includes(runId)).map((g) => ({ sizes: g.sizes, at: g.at, settle: g.settle }));
  }
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 1));
}

function setup(fairShare: FairShareOptions = { utilization: () => 0 }) {
  const writer = new HeldWriter();
  const batcher = new RunUpdateBatcher(writer, 0, fairShare);
  const update = (runId: string): Promise<unknown> =>
    batcher.enqueue(runId, { decide: (current) => transition(bump(current)), relaxed: false, claimOutbox: undefined });
  return { writer, update };
}

describe('RunUpdateBatcher, fair share across runs', () => {
  it("a big run's full batch does not start while a small run's transaction is in flight, and is split while the small run is about", async () => {
    const { writer, update } = setup();
    void update('small');
    void update('big');
    await flush();
    expect(writer.groups.map((g) => g.runs)).toEqual([['small'], ['big']]);
    for (let i = 0; i < 99; i++) void update('big');
    writer.of('big')[0].settle();
    await flush();
    // The small run's transaction is still in the database: the big run's 99 updates wait for it.
    expect(writer.of('big')).toHaveLength(1);
    void update('small'); // the chain's next step, queued behind its own first one
    writer.of('small')[0].settle();
    await until(() => writer.of('big').length === 2 && writer.of('small').length === 2);
    // The small run's next update went at once, on its own; the big run takes a share, not all 99.
    expect(writer.of('small')[1].sizes).toEqual([1]);
    expect(writer.of('big')[1].sizes).toEqual([32]);
  });

  it('a big run alone takes 128 updates per transaction at once, as before', async () => {
    const { writer, update } = setup({ utilization: () => 1 });
    void update('big');
    await flush();
    for (let i = 0; i < 200; i++) void update('big');
    writer.of('big')[0].settle();
    await flush();
    expect(writer.of('big').map((g) => g.sizes)).toEqual([[1], [128]]);
  });

  it('while the event loop is busy and a small run is about, a big run waits before its next batch, at most as long as its last one took', async () => {
    const { writer, update } = setup({ utilization: () => 1 });
    void update('big');
    await flush();
    for (let i = 0; i < 50; i++) void update('big');
    void update('small');
    await flush();
    writer.of('small')[0].settle();
    await new Promise((resolve) => setTimeout(resolve, 30));
    const settledAt = performance.now();
    const took = settledAt - writer.of('big')[0].at;
    writer.of('big')[0].settle();
    await until(() => writer.of('big').length === 2);
    const waited = writer.of('big')[1].at - settledAt;
    expect(waited).toBeGreaterThanOrEqual(Math.min(40, took) - 1);
    expect(writer.of('big')[1].sizes).toEqual([32]);
  });

  it('turned off: the big run takes everything waiting at once, the small run notwithstanding', async () => {
    const { writer, update } = setup({ enabled: false });
    void update('small');
    void update('big');
    await flush();
    for (let i = 0; i < 99; i++) void update('big');
    writer.of('big')[0].settle();
    await flush();
    expect(writer.of('big').map((g) => g.sizes)).toEqual([[1], [99]]);
  });
});
