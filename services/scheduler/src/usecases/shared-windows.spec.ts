import { DEFAULT_DISPATCH_WINDOW } from '@weft/core';
import { SharedWindows } from './shared-windows';

describe('SharedWindows', () => {
  let now: number;
  const windows = (shared = 16) => new SharedWindows(shared, 2_000, () => now);
  beforeEach(() => (now = 1_000_000));

  it('gives a run alone the default window, and the shared one while another run is active', () => {
    const w = windows();
    expect(w.windowOf('big')).toBe(DEFAULT_DISPATCH_WINDOW);
    expect(w.windowOf('big')).toBe(DEFAULT_DISPATCH_WINDOW);
    expect(w.windowOf('small')).toBe(16);
    expect(w.windowOf('big')).toBe(16);
    expect(w.active).toBe(2);
  });

  it('forgets a run 1-2 s after its last decision', () => {
    const w = windows();
    w.windowOf('small');
    now += 999;
    expect(w.windowOf('big')).toBe(16);
    now += 1_000; // small's generation is the previous one now
    expect(w.peek('big')).toBe(16);
    now += 1_000; // 2 s after both were last decided: gone (peek counts nothing)
    expect(w.peek('big')).toBe(DEFAULT_DISPATCH_WINDOW);
    expect(w.active).toBe(0);
    w.windowOf('small');
    now += 5_000; // a long quiet without a rotation: what the current generation held is old
    expect(w.active).toBe(0);
    expect(w.windowOf('big')).toBe(DEFAULT_DISPATCH_WINDOW);
  });

  it('counts a run a decision ended for 250 ms more, for the others only', () => {
    const w = windows();
    w.windowOf('first');
    expect(w.windowOf('second')).toBe(16);
    w.ended('first');
    expect(w.active).toBe(1);
    now += 249;
    expect(w.windowOf('second')).toBe(16);
    now += 1;
    expect(w.windowOf('second')).toBe(DEFAULT_DISPATCH_WINDOW);
    w.ended('second');
    // A run's own end does not make it share with itself (a run.retry right after).
    expect(w.windowOf('second')).toBe(DEFAULT_DISPATCH_WINDOW);
  });

  it('does not count a finished run for a run first seen after its end (one big run after another)', () => {
    const w = windows();
    w.windowOf('big-1');
    now += 10;
    w.ended('big-1');
    now += 5;
    expect(w.windowOf('big-2')).toBe(DEFAULT_DISPATCH_WINDOW);
    now += 5;
    expect(w.windowOf('big-2')).toBe(DEFAULT_DISPATCH_WINDOW);
  });

  it('keeps the time it first saw a run across generations', () => {
    const w = windows();
    w.windowOf('big');
    now += 1_500; // big moves to the previous generation on the next ask
    w.windowOf('small');
    w.windowOf('big'); // seen again in the new generation: still first seen at the start
    w.ended('small');
    now += 1;
    expect(w.windowOf('big')).toBe(16);
  });

  it('does not count a run it is only asked about (peek)', () => {
    const w = windows();
    w.windowOf('big');
    expect(w.peek('other')).toBe(16);
    expect(w.windowOf('big')).toBe(DEFAULT_DISPATCH_WINDOW);
  });

  it('never gives more than the default window: a shared window of 64 or more turns sharing off', () => {
    const w = windows(500);
    w.windowOf('a');
    expect(w.windowOf('b')).toBe(DEFAULT_DISPATCH_WINDOW);
  });
});
