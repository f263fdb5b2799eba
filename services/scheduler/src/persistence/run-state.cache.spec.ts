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
});
