import { evaluateExpression } from './evaluate';
import { shareWithExpressions, toCel } from './cel';

describe('shareWithExpressions (large outputs read by many expressions)', () => {
  it('converts a shared value to CEL once and reuses it', () => {
    const output = { rows: [{ i: 1 }, { i: 2 }], marker: 'm' };
    shareWithExpressions(output);
    const first = toCel(output);
    expect(toCel(output)).toBe(first);
    expect(toCel({ nested: output })).toEqual({ nested: first });
  });

  it('evaluates the same as an unshared value (integral numbers are ints)', () => {
    const output = { rows: [{ i: 1 }, { i: 2.5 }] };
    const scope = (o: unknown) => ({ inputs: {}, steps: { big: { status: 'completed' as const, attempts: 1, output: o } }, run: { id: 'r', workflow: 'w' } });
    const plain = evaluateExpression('steps.big.output.rows[0].i + 1', scope(JSON.parse(JSON.stringify(output)) as unknown));
    shareWithExpressions(output);
    expect(evaluateExpression('steps.big.output.rows[0].i + 1', scope(output))).toEqual(plain);
    expect(evaluateExpression('steps.big.output.rows[0].i + 1', scope(output))).toBe(2);
  });
});
