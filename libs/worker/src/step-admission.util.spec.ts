import { Slots } from './step-admission.util';

/** Acquires for `run` and records, once granted, `run:n` in `order`. */
function waitFor(slots: Slots, run: string, n: number, order: string[]): Promise<boolean> {
  return slots.acquire(run).then((acquired) => {
    if (acquired) order.push(`${run}:${n}`);
    return acquired;
  });
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('Slots (fair share across runs)', () => {
  it('grants at once while slots are free, then holds the rest', async () => {
    const slots = new Slots(2);
    await expect(slots.acquire('a')).resolves.toBe(true);
    await expect(slots.acquire('a')).resolves.toBe(true);
    const order: string[] = [];
    void waitFor(slots, 'a', 3, order);
    await settle();
    expect(order).toEqual([]);
    expect(slots.waiting()).toBe(1);
    slots.release();
    await settle();
    expect(order).toEqual(['a:3']);
    expect(slots.waiting()).toBe(0);
  });

  it("hands freed slots to the waiting runs in turn: a run's backlog does not go ahead of another run's one dispatch", async () => {
    const slots = new Slots(1);
    await slots.acquire('big');
    const order: string[] = [];
    for (let n = 1; n <= 5; n++) void waitFor(slots, 'big', n, order);
    void waitFor(slots, 'small', 1, order);
    for (let n = 6; n <= 7; n++) void waitFor(slots, 'big', n, order);
    void waitFor(slots, 'other', 1, order);
    void waitFor(slots, 'small', 2, order);
    for (let i = 0; i < 10; i++) {
      slots.release();
      await settle();
    }
    // First come first served within a run; across runs, one each in the order they first waited,
    // a served run going to the back.
    expect(order).toEqual(['big:1', 'small:1', 'other:1', 'big:2', 'small:2', 'big:3', 'big:4', 'big:5', 'big:6', 'big:7']);
  });

  it('a release with nobody waiting frees a slot again', async () => {
    const slots = new Slots(1);
    await slots.acquire('a');
    slots.release();
    await expect(slots.acquire('b')).resolves.toBe(true);
  });

  it('tells every waiter false once closed, and refuses later acquires', async () => {
    const slots = new Slots(1);
    await slots.acquire('a');
    const waiting = [slots.acquire('a'), slots.acquire('b'), slots.acquire('a')];
    slots.close();
    await expect(Promise.all(waiting)).resolves.toEqual([false, false, false]);
    await expect(slots.acquire('c')).resolves.toBe(false);
    expect(slots.waiting()).toBe(0);
  });
});
