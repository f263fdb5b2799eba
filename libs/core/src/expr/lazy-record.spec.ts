import { evaluateExpression, renderValue } from './evaluate';
import { lazyRecord } from './lazy-record';
import { toCel } from './cel';

describe('lazyRecord', () => {
  const build = (values: Record<string, number>) => {
    const reads: string[] = [];
    const record = lazyRecord(
      (key) => {
        reads.push(key);
        return Object.hasOwn(values, key) ? { n: values[key] } : undefined;
      },
      () => ['a', 'b', 'gone', 'c'],
    );
    return { record, reads };
  };

  it('reads like a plain record of the keys that have a value, building each value once when first read', () => {
    const { record, reads } = build({ a: 1, b: 2, c: 3 });
    expect(reads).toEqual([]);
    expect(record.b).toEqual({ n: 2 });
    expect(record.b).toBe(record.b);
    expect(reads).toEqual(['b']);
    expect('a' in record).toBe(true);
    expect(Object.hasOwn(record, 'gone')).toBe(false);
    expect(record.gone).toBeUndefined();
    expect(Object.keys(record)).toEqual(['a', 'b', 'c']);
    expect({ ...record }).toEqual({ a: { n: 1 }, b: { n: 2 }, c: { n: 3 } });
    expect(JSON.parse(JSON.stringify(record))).toEqual({ a: { n: 1 }, b: { n: 2 }, c: { n: 3 } });
    // JSON.stringify also asks for `toJSON` (none).
    expect(reads.sort()).toEqual(['a', 'b', 'c', 'gone', 'toJSON']);
  });

  it('is read-only', () => {
    const { record } = build({ a: 1 });
    expect(() => {
      (record as Record<string, unknown>).a = 2;
    }).toThrow(TypeError);
    expect(() => delete (record as Record<string, unknown>).a).toThrow(TypeError);
    expect(() => Object.freeze(record)).toThrow(TypeError);
  });

  it('stays lazy through toCel: an expression converts and reads only the keys it names, ints as ints', () => {
    const { record, reads } = build({ a: 41, b: 2, c: 3 });
    const scope = { inputs: {}, steps: record as never, run: { id: 'r', workflow: 'w' } };
    expect(evaluateExpression('steps.a.n + 1', scope)).toBe(42);
    expect(renderValue({ x: '${{ steps.a.n * 2 }}', y: '${{ has(steps.zz) }}' }, scope)).toEqual({ x: 82, y: false });
    // cel-js also asks for `constructor` (none: a map); b and c are never built.
    expect(reads.sort()).toEqual(['a', 'constructor', 'zz']);
    // The same record converts to the same CEL record: conversions are kept across expressions.
    expect(toCel(record)).toBe(toCel(record));
    expect(evaluateExpression('size(steps)', scope)).toBe(3);
    expect(evaluateExpression('steps.map(k, steps[k].n).exists(n, n == 3)', scope)).toBe(true);
  });

  it("a read that throws leaves the expression as it was thrown (the shell's error, e.g. a blob to load), even where cel-js swallows errors", () => {
    class NotLoaded extends Error {}
    const record = lazyRecord(
      (key) => {
        if (key === 'a') throw new NotLoaded('load a first');
        return key === 'b' ? { n: 2 } : undefined;
      },
      () => ['a', 'b'],
    );
    const scope = { inputs: {}, steps: record as never, run: { id: 'r', workflow: 'w' } };
    expect(() => evaluateExpression('steps.a.n', scope)).toThrow(NotLoaded);
    expect(() => evaluateExpression('steps.a.n == 1 || true', scope)).toThrow(NotLoaded);
    expect(() => renderValue({ x: 'n=${{ steps.a.n }}' }, scope)).toThrow(NotLoaded);
    // The failure is not left behind for the next expression.
    expect(evaluateExpression('steps.b.n', scope)).toBe(2);
  });
});
