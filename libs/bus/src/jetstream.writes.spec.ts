import { CoalescedWrites } from './jetstream.writes';

/** A send that records when it ran and resolves with its name. */
function sender(log: string[], name: string, fails = false): () => Promise<string> {
  return () => {
    log.push(name);
    if (fails) throw new Error(`${name} refused`);
    return Promise.resolve(name);
  };
}

const turnEnd = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('CoalescedWrites', () => {
  it("sends the turn's first publish, and those of the same synchronous stretch, at once", async () => {
    const log: string[] = [];
    let flushed = 0;
    const writes = new CoalescedWrites(true, () => flushed++);
    const a = writes.run(sender(log, 'a'));
    const b = writes.run(sender(log, 'b'));
    expect(log).toEqual(['a', 'b']);
    expect(flushed).toBe(2);
    await expect(Promise.all([a, b])).resolves.toEqual(['a', 'b']);
  });

  it('holds publishes made later in the turn and sends them together, in order, when it ends', async () => {
    const log: string[] = [];
    let flushed = 0;
    const writes = new CoalescedWrites(true, () => flushed++);
    const first = writes.run(sender(log, 'first'));
    // A few promise turns later, as an executor's next handler reaches its result publish.
    await Promise.resolve();
    await Promise.resolve();
    const later = [writes.run(sender(log, 'x')), writes.run(sender(log, 'y'))];
    await Promise.resolve();
    const last = writes.run(sender(log, 'z'));
    expect(log).toEqual(['first']);
    expect(writes.size).toBe(3);
    await turnEnd();
    expect(log).toEqual(['first', 'x', 'y', 'z']);
    // Once for the first, once for the three: the held acks ride each.
    expect(flushed).toBe(2);
    await expect(Promise.all([first, ...later, last])).resolves.toEqual(['first', 'x', 'y', 'z']);
    // The next turn's first publish goes at once again.
    void writes.run(sender(log, 'next'));
    expect(log.at(-1)).toBe('next');
  });

  it('rejects a held publish whose send throws, and sends the others', async () => {
    const log: string[] = [];
    const writes = new CoalescedWrites(true, () => undefined);
    void writes.run(sender(log, 'first'));
    await Promise.resolve();
    await Promise.resolve();
    const bad = writes.run(sender(log, 'bad', true));
    const good = writes.run(sender(log, 'good'));
    await expect(bad).rejects.toThrow('bad refused');
    await expect(good).resolves.toBe('good');
  });

  it('flush() sends what waits at once (close)', async () => {
    const log: string[] = [];
    const writes = new CoalescedWrites(true, () => undefined);
    void writes.run(sender(log, 'first'));
    await Promise.resolve();
    await Promise.resolve();
    const held = writes.run(sender(log, 'held'));
    writes.flush();
    expect(log).toEqual(['first', 'held']);
    await expect(held).resolves.toBe('held');
  });

  it('sends every publish at once when disabled', async () => {
    const log: string[] = [];
    const writes = new CoalescedWrites(false, () => undefined);
    void writes.run(sender(log, 'a'));
    await Promise.resolve();
    await Promise.resolve();
    void writes.run(sender(log, 'b'));
    expect(log).toEqual(['a', 'b']);
    expect(writes.size).toBe(0);
  });
});
