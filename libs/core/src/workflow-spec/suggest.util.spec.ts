import fc from 'fast-check';
import { closestMatch, editDistance } from './suggest.util';

describe('editDistance', () => {
  it('counts edits, a transposition as one', () => {
    expect(editDistance('build', 'build')).toBe(0);
    expect(editDistance('buidl', 'build')).toBe(1);
    expect(editDistance('neds', 'needs')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
  });

  it('is symmetric and never beyond the longer length', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }), (a, b) => {
        const d = editDistance(a, b);
        expect(editDistance(b, a)).toBe(d);
        expect(d).toBeLessThanOrEqual(Math.max(a.length, b.length));
        expect(d === 0).toBe(a === b);
      }),
    );
  });

  it('agrees with the unbounded distance whenever that is within the limit', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 }), fc.nat({ max: 6 }), (a, b, limit) => {
        const full = editDistance(a, b);
        const bounded = editDistance(a, b, limit);
        if (full <= limit) expect(bounded).toBe(full);
        else expect(bounded).toBeGreaterThan(limit);
      }),
    );
  });
});

describe('closestMatch', () => {
  it('suggests close names and nothing for far ones', () => {
    expect(closestMatch('buidl', ['test', 'build', 'deploy'])).toBe('build');
    expect(closestMatch('Build', ['build', 'guild'])).toBe('build');
    expect(closestMatch('xyz', ['build', 'deploy'])).toBeUndefined();
    expect(closestMatch('build', ['build'])).toBeUndefined();
  });
});
