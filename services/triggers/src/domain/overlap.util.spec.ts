import { BUFFER_ALL_LIMIT, decideOverlap, mayReleaseBuffered, OVERLAP_POLICIES } from './overlap.util';

describe('decideOverlap', () => {
  it.each(OVERLAP_POLICIES)('%s starts when nothing is active or buffered', (policy) => {
    expect(decideOverlap(policy, { activeRunIds: [], buffered: 0 })).toEqual({ kind: 'start', cancel: [] });
  });

  const busy = { activeRunIds: ['r1'], buffered: 0 };
  it('skip skips while a run is active', () => {
    expect(decideOverlap('skip', busy)).toEqual({ kind: 'skip', reason: 'overlap skip: 1 run still active' });
  });
  it('buffer-one buffers one occurrence and skips the next', () => {
    expect(decideOverlap('buffer-one', busy)).toEqual({ kind: 'buffer' });
    expect(decideOverlap('buffer-one', { activeRunIds: ['r1'], buffered: 1 }).kind).toBe('skip');
  });
  it('buffer-all buffers up to its limit', () => {
    expect(decideOverlap('buffer-all', { activeRunIds: ['r1'], buffered: 10 })).toEqual({ kind: 'buffer' });
    expect(decideOverlap('buffer-all', { activeRunIds: ['r1'], buffered: BUFFER_ALL_LIMIT }).kind).toBe('skip');
  });
  it('buffering policies queue behind earlier buffered occurrences even when no run is active', () => {
    expect(decideOverlap('buffer-all', { activeRunIds: [], buffered: 2 })).toEqual({ kind: 'buffer' });
  });
  it('cancel-other starts and names the runs to cancel', () => {
    expect(decideOverlap('cancel-other', { activeRunIds: ['r1', 'r2'], buffered: 0 })).toEqual({ kind: 'start', cancel: ['r1', 'r2'] });
  });
  it('allow always starts', () => {
    expect(decideOverlap('allow', { activeRunIds: ['r1', 'r2'], buffered: 0 })).toEqual({ kind: 'start', cancel: [] });
  });
  it('a buffered occurrence is released once no run is active', () => {
    expect(mayReleaseBuffered({ activeRunIds: ['r1'], buffered: 1 })).toBe(false);
    expect(mayReleaseBuffered({ activeRunIds: [], buffered: 1 })).toBe(true);
    expect(mayReleaseBuffered({ activeRunIds: [], buffered: 0 })).toBe(false);
  });
});
