import { WriteBatcher } from './write-batcher';

describe('WriteBatcher', () => {
  const doubling = () => {
    const batches: number[][] = [];
    const batcher = new WriteBatcher<number, number>(
      async (items) => {
        batches.push([...items]);
        return items.map((n) => (n < 0 ? { status: 'rejected' as const, reason: new Error(`negative ${n}`) } : { status: 'fulfilled' as const, value: n * 2 }));
      },
      { maxItems: 3, lingerMs: 1 },
    );
    return { batches, batcher };
  };

  it('writes the items added together as one batch and answers each caller for its own item', async () => {
    const { batches, batcher } = doubling();
    const outcomes = await Promise.allSettled([1, -2, 3].map((n) => batcher.add(n)));
    expect(batches).toEqual([[1, -2, 3]]);
    expect(outcomes.map((o) => (o.status === 'fulfilled' ? o.value : (o.reason as Error).message))).toEqual([2, 'negative -2', 6]);
  });

  it('starts a new batch once one is full, and writes a lone item after the linger', async () => {
    const { batches, batcher } = doubling();
    expect(await Promise.all([1, 2, 3, 4, 5].map((n) => batcher.add(n)))).toEqual([2, 4, 6, 8, 10]);
    expect(batches).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
    expect(await batcher.add(7)).toBe(14);
    expect(batches.at(-1)).toEqual([7]);
  });

  it('rejects every item of a batch whose writer throws', async () => {
    const batcher = new WriteBatcher<number, number>(() => Promise.reject(new Error('down')), { lingerMs: 0 });
    const outcomes = await Promise.allSettled([1, 2].map((n) => batcher.add(n)));
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
  });
});
