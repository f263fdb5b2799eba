import fc from 'fast-check';
import type { ExprScope } from './cel';
import { EXPRESSION_LIMITS, ExpressionBudgetError } from './budget';
import { evaluateCondition, evaluateExpression, ExpressionError, renderValue } from './evaluate';

const scope = (inputs: Record<string, unknown> = {}): ExprScope => ({ inputs, steps: {}, run: { id: 'r1', workflow: 'demo' } });

/** The error an evaluation throws (or undefined), for assertions on its class and code. */
function failureOf(run: () => unknown): unknown {
  try {
    run();
    return undefined;
  } catch (error) {
    return error;
  }
}

describe('expression budget (issue 12 reproductions)', () => {
  it('answers the catastrophic-backtracking regex with RE2 semantics instead of blocking', () => {
    // With JavaScript's RegExp this held the process for seconds; RE2 is linear in the input.
    expect(evaluateExpression("'aaaaaaaaaaaaaaaaaaaaaaaaaaa!'.matches('^(a+)+$')", scope())).toBe(false);
    expect(evaluateExpression("'aaaa'.matches('^(a+)+$')", scope())).toBe(true);
  });

  it('stops nested comprehensions over large lists with EXPRESSION_BUDGET', () => {
    const xs = Array.from({ length: 10_000 }, (_, i) => i);
    const error = failureOf(() => evaluateExpression('inputs.xs.all(a, inputs.xs.all(b, a + b >= 0))', scope({ xs })));
    expect(error).toBeInstanceOf(ExpressionBudgetError);
    expect(error).toMatchObject({ code: 'EXPRESSION_BUDGET', message: expect.stringContaining('exceeded the expression budget') });
  });

  it('cannot hide an overspent evaluation behind || or exists (errors they swallow still fail it)', () => {
    const xs = Array.from({ length: 1_000 }, (_, i) => i);
    for (const source of ['inputs.xs.exists(a, inputs.xs.all(b, b >= 0) && a < 0) || true', 'inputs.xs.exists(a, inputs.xs.exists(b, b < 0))']) {
      expect(failureOf(() => evaluateExpression(source, scope({ xs })))).toMatchObject({ code: 'EXPRESSION_BUDGET' });
    }
  });
});

describe('expression limits', () => {
  it('refuses strings doubled past the limit', () => {
    const source = "cel.bind(a, 'xxxxxxxxxxxxxxxx', " + Array.from({ length: 20 }, (_, i) => `cel.bind(a${i}, ${i === 0 ? 'a' : `a${i - 1}`} + ${i === 0 ? 'a' : `a${i - 1}`}, `).join('') + 'size(a19)' + ')'.repeat(21);
    expect(failureOf(() => evaluateExpression(source, scope()))).toMatchObject({ code: 'EXPRESSION_BUDGET', message: expect.stringContaining('string') });
  });

  it('refuses lists doubled past the limit', () => {
    const source = 'cel.bind(l, [1, 2, 3, 4, 5, 6, 7, 8], ' + Array.from({ length: 16 }, (_, i) => `cel.bind(l${i}, ${i === 0 ? 'l' : `l${i - 1}`} + ${i === 0 ? 'l' : `l${i - 1}`}, `).join('') + 'size(l15)' + ')'.repeat(17);
    expect(failureOf(() => evaluateExpression(source, scope()))).toMatchObject({ code: 'EXPRESSION_BUDGET' });
  });

  it('charges `in` by the list it scans', () => {
    const xs = Array.from({ length: 2_000 }, (_, i) => i);
    expect(failureOf(() => evaluateExpression('inputs.xs.all(a, a in inputs.xs)', scope({ xs })))).toMatchObject({ code: 'EXPRESSION_BUDGET' });
    expect(evaluateExpression('inputs.xs.all(a, a >= 0)', scope({ xs }))).toBe(true);
  });

  it('charges string scans by the text they scan', () => {
    const text = 'a'.repeat(EXPRESSION_LIMITS.maxStringLength);
    const xs = Array.from({ length: 1_000 }, (_, i) => i);
    expect(failureOf(() => evaluateExpression("inputs.xs.all(i, !inputs.text.contains('b'))", scope({ xs, text })))).toMatchObject({ code: 'EXPRESSION_BUDGET' });
    expect(evaluateExpression("inputs.text.contains('b')", scope({ text }))).toBe(false);
  });

  it('shares one budget across every expression of a rendered `with`', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i);
    const one = '${{ inputs.xs.map(a, inputs.xs.filter(b, b == a).size()).size() }}';
    // One of them fits; many together do not.
    expect(renderValue({ a: one }, scope({ xs }))).toEqual({ a: 100 });
    expect(failureOf(() => renderValue(Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, one])), scope({ xs })))).toMatchObject({
      code: 'EXPRESSION_BUDGET',
    });
  });

  it('applies to conditions too', () => {
    const xs = Array.from({ length: 10_000 }, (_, i) => i);
    expect(failureOf(() => evaluateCondition('${{ inputs.xs.all(a, inputs.xs.all(b, b >= 0)) }}', scope({ xs })))).toBeInstanceOf(ExpressionBudgetError);
  });

  it('reports regexes RE2 cannot run as expression errors', () => {
    const error = failureOf(() => evaluateExpression("'aa'.matches('(a)\\\\1')", scope()));
    expect(error).toBeInstanceOf(ExpressionError);
    expect(error).toMatchObject({ code: 'EXPRESSION_ERROR', message: expect.stringContaining('invalid regular expression') });
  });

  it('keeps everyday expressions well inside the budget', () => {
    const rows = Array.from({ length: 1_000 }, (_, i) => ({ id: i, name: `row-${i}`, tags: ['a', 'b'] }));
    expect(evaluateExpression("inputs.rows.filter(r, r.id % 2 == 0 && r.name.matches('^row-[0-9]+$')).map(r, r.id).size()", scope({ rows }))).toBe(500);
    expect(evaluateExpression("inputs.rows.exists(r, 'b' in r.tags)", scope({ rows }))).toBe(true);
  });

  it('ends every evaluation of nested comprehensions with a value or EXPRESSION_BUDGET (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3_000 }), fc.integer({ min: 1, max: 3 }), (n, depth) => {
        const xs = Array.from({ length: n }, (_, i) => i);
        let body = 'true';
        for (let d = depth - 1; d >= 0; d--) body = `inputs.xs.all(v${d}, ${body})`;
        const error = failureOf(() => evaluateExpression(body, scope({ xs })));
        // Work is n^depth nodes at least: past the budget it must fail with the budget's code, below it it must succeed.
        if (error !== undefined) expect(error).toMatchObject({ code: 'EXPRESSION_BUDGET' });
        if (n ** depth * 2 < EXPRESSION_LIMITS.cost / 2) expect(error).toBeUndefined();
        if (n ** depth > EXPRESSION_LIMITS.cost) expect(error).toBeDefined();
      }),
      { numRuns: 60 },
    );
  });
});
