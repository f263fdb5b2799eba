import { isRelativeTime, QueryParams } from './query-params.util';

class QueryError extends Error {}
const params = (raw: Record<string, unknown>) => new QueryParams(raw, (message) => new QueryError(message));
const NOW = Date.parse('2026-03-02T00:00:00Z');

describe('QueryParams', () => {
  it('reads single values, lists and bounded integers, each malformed one as the service\'s error', () => {
    const q = params({ a: 'x', empty: '', twice: ['1', '2'], type: ['p, q', 'r', ''], n: '42', big: '12345' });
    expect(q.single('a')).toBe('x');
    expect(q.single('empty')).toBeUndefined();
    expect(() => q.single('twice')).toThrow(new QueryError('twice: give it once'));
    expect(q.list('type')).toEqual(['p', 'q', 'r']);
    expect(q.integer('n', 4)).toBe(42);
    expect(() => q.integer('big', 4)).toThrow(new QueryError('big: expected an integer (got "12345")'));
  });

  it('takes a time as ISO 8601 or as a duration back from now', () => {
    const q = params({});
    expect(q.time('24h', NOW, 'since')).toBe(NOW - 24 * 3_600_000);
    expect(q.time('2026-03-01T00:00:00Z', NOW, 'since')).toBe(Date.parse('2026-03-01T00:00:00Z'));
    expect(() => q.time('yesterday', NOW, 'since')).toThrow(QueryError);
    expect([isRelativeTime('7d'), isRelativeTime('2026-03-01')]).toEqual([true, false]);
  });
});
