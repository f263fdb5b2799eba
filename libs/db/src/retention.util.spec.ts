import { pruneInBatches, RetentionPasses } from './retention.util';

describe('pruneInBatches', () => {
  it('sums batches until one reports no more', async () => {
    const batches = [
      { deleted: { a: 2, b: 1 }, more: true },
      { deleted: { a: 1, b: 0 }, more: false },
    ];
    let calls = 0;
    expect(await pruneInBatches({ a: 0, b: 0 }, async () => batches[calls++], () => false)).toEqual({ a: 3, b: 1 });
    expect(calls).toBe(2);
  });

  it('ends after the current batch once stopped', async () => {
    let calls = 0;
    const total = await pruneInBatches({ n: 0 }, async () => (calls++, { deleted: { n: 5 }, more: true }), () => calls >= 3);
    expect(total).toEqual({ n: 15 });
  });
});

describe('RetentionPasses', () => {
  it('passes at once, logs what it deleted or why it failed, and stops', async () => {
    const lines: string[] = [];
    const log = { info: (msg: string) => lines.push(msg), error: (msg: string) => lines.push(msg) };
    let passes = 0;
    const pass = async (): Promise<{ rows: number }> => {
      passes += 1;
      if (passes > 2) throw new Error('db down');
      return { rows: passes === 1 ? 0 : 4 };
    };
    const pruner = new RetentionPasses({ name: 'shelf', intervalMs: 1, log, pass });
    pruner.start();
    for (let i = 0; i < 200 && lines.length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    await pruner.stop();
    expect(pruner.stopped).toBe(true);
    expect(lines.slice(0, 2)).toEqual(['shelf retention pass', 'shelf retention pass failed; trying again next interval']);
  });
});
