import type { RunState } from '@weft/core';
import { LARGE_RUN_STEPS, RunStateCache } from './run-state.cache';

const run = (runId: string, steps: number, seq = 1, status: RunState['status'] = 'running'): RunState =>
  ({ runId, seq, status, plan: Array.from({ length: steps }, (_, i) => ({ id: `s${i}` })) }) as unknown as RunState;

describe('RunStateCache', () => {
  it('keeps the last `size` small runs, least recently changed dropped first', () => {
    const cache = new RunStateCache(2);
    cache.remember(run('a', 3));
    cache.remember(run('b', 3));
    cache.remember(run('a', 3, 2));
    cache.remember(run('c', 3));
    expect(cache.has('b')).toBe(false);
    expect(cache.at('a', 2)?.seq).toBe(2);
    expect(cache.at('a', 1)).toBeUndefined();
    expect(cache.has('c')).toBe(true);
  });

  it('keeps a large run however many small runs change meanwhile', () => {
    const cache = new RunStateCache(10);
    cache.remember(run('big', LARGE_RUN_STEPS * 4));
    for (let i = 0; i < 1000; i++) cache.remember(run(`small-${i}`, 5));
    expect(cache.at('big', 1)).toBeDefined();
    expect(cache.has('small-0')).toBe(false);
  });

  it('bounds large runs by their steps together, and never caches one over the budget', () => {
    const cache = new RunStateCache(10, LARGE_RUN_STEPS * 3);
    cache.remember(run('l1', LARGE_RUN_STEPS * 2));
    cache.remember(run('l2', LARGE_RUN_STEPS * 2));
    expect(cache.has('l1')).toBe(false);
    expect(cache.has('l2')).toBe(true);
    cache.remember(run('huge', LARGE_RUN_STEPS * 4));
    expect(cache.has('huge')).toBe(false);
    cache.forget('l2');
    cache.remember(run('l3', LARGE_RUN_STEPS * 3));
    expect(cache.has('l3')).toBe(true);
  });

  it('drops finished runs, and keeps nothing with size 0', () => {
    const cache = new RunStateCache(10);
    cache.remember(run('a', LARGE_RUN_STEPS));
    cache.remember(run('a', LARGE_RUN_STEPS, 2, 'completed'));
    expect(cache.has('a')).toBe(false);
    const off = new RunStateCache(0);
    off.remember(run('b', LARGE_RUN_STEPS));
    off.remember(run('c', 1));
    expect(off.has('b') || off.has('c')).toBe(false);
  });

  it('grows to hold every run in flight when runs it dropped are changed again, so a cycle of them stops missing', () => {
    // 15 runs changed in turn over a cache of 10 (W4 past capacity): least recently changed is the next one changed.
    const cache = new RunStateCache(10);
    const ids = Array.from({ length: 15 }, (_, i) => `r${i}`);
    ids.forEach((id) => cache.remember(run(id, 5)));
    let misses = 0;
    for (let round = 2; round <= 4; round++) {
      for (const id of ids) {
        if (cache.at(id, round - 1) === undefined) misses += 1;
        cache.remember(run(id, 5, round));
      }
    }
    // The first round after the start misses the 5 it dropped, once each; nothing after.
    expect(misses).toBe(5);
    expect(cache.capacity).toBe(15);
  });

  it('does not grow for runs never changed again, nor for runs that finished after being dropped', () => {
    const cache = new RunStateCache(10);
    for (let i = 0; i < 1000; i++) cache.remember(run(`waiting-${i}`, 5));
    cache.remember(run('waiting-0', 5, 2, 'completed'));
    cache.remember(run('waiting-1', 5, 2, 'completed'));
    expect(cache.capacity).toBe(10);
    expect(cache.has('waiting-0')).toBe(false);
    expect(cache.has('waiting-999')).toBe(true);
  });

  it('grows at most to maxSize runs, and past size only while the small runs total at most grownSteps steps', () => {
    const cycle = (cache: RunStateCache, runs: number, steps: number) => {
      for (let round = 1; round <= 3; round++) for (let i = 0; i < runs; i++) cache.remember(run(`r${i}`, steps, round));
    };
    const capped = new RunStateCache(10, 250_000, 12);
    cycle(capped, 14, 5);
    expect(capped.capacity).toBe(12);
    // 10 runs of 100 steps fit `size`; past it the steps would exceed 1,500: at most 15 runs.
    const bySteps = new RunStateCache(10, 250_000, 1000, 1500);
    cycle(bySteps, 30, 100);
    expect(bySteps.capacity).toBe(15);
    expect(Array.from({ length: 30 }, (_, i) => bySteps.has(`r${i}`)).filter(Boolean)).toHaveLength(15);
  });
});
