import { checkCondition, checkExpression, checkSingleExpression, checkTemplate } from './check.util';

const refs = (text: string) => checkTemplate(text).references.map((r) => `${r.scope}.${r.name}${r.field ? `.${r.field}` : ''}@${r.offset}`);

describe('checkExpression', () => {
  it('accepts mixed int/double arithmetic and reports the type', () => {
    expect(checkExpression('1.5 + 1')).toEqual({ problems: [], references: [], type: 'double' });
    expect(checkExpression('steps.a.output.x + 1').type).toBe('dyn');
  });

  it('reports CEL syntax errors at their offset', () => {
    const { problems } = checkExpression('inputs.a +', 10);
    expect(problems).toEqual([{ code: 'CEL_SYNTAX', severity: 'error', message: 'cannot parse "inputs.a +": Unexpected token: EOF', offset: 20 }]);
  });

  it('reports CEL type errors at the offending subexpression', () => {
    const { problems } = checkExpression('inputs.n == 1 && (2 + "x") == 1');
    expect(problems).toEqual([expect.objectContaining({ code: 'CEL_TYPE', offset: 18, message: expect.stringContaining('no such overload: int + string') })]);
  });

  it('rejects unknown variables', () => {
    expect(checkExpression('stpes.a.output').problems[0]).toMatchObject({ code: 'CEL_TYPE', message: expect.stringContaining('Unknown variable: stpes') });
  });
});

describe('checkTemplate', () => {
  it('finds step and input references with their field and offset', () => {
    expect(refs('${{ steps.build.output.url }}')).toEqual(['steps.build.output@4']);
    expect(refs('n=${{ inputs.n }} by ${{ steps["a"].status }}')).toEqual(['inputs.n@6', 'steps.a.status@25']);
    expect(refs('${{ has(steps.a.output) && steps.b.output.rows.map(r, r.id + inputs.k).size() > 0 }}')).toEqual([
      'steps.a.output@8',
      'steps.b.output@27',
      'inputs.k@61',
    ]);
  });

  it('honours variables bound by macros and cel.bind', () => {
    expect(refs('${{ [1].map(steps, steps + 1) }}')).toEqual([]);
    expect(refs('${{ cel.bind(inputs, steps.a.output, inputs.x) }}')).toEqual(['steps.a.output@21']);
    expect(refs('${{ [1].all(x, x > 0) && steps.b.output.exists(steps, steps == 1) }}')).toEqual(['steps.b.output@25']);
  });

  it('warns about computed names and still checks what they read', () => {
    const result = checkTemplate('${{ steps[inputs.which].output }}');
    expect(result.problems).toEqual([expect.objectContaining({ code: 'DYNAMIC_REFERENCE', severity: 'warning', offset: 4 })]);
    expect(result.references).toEqual([{ scope: 'inputs', name: 'which', offset: 10 }]);
  });

  it('reports template syntax errors and every broken part', () => {
    expect(checkTemplate('a ${{ b').problems).toEqual([expect.objectContaining({ code: 'TEMPLATE_SYNTAX', offset: 2 })]);
    const both = checkTemplate('${{ 1 + }} and ${{ "x" - 1 }}').problems;
    expect(both.map((p) => [p.code, p.offset])).toEqual([
      ['CEL_SYNTAX', 7],
      ['CEL_TYPE', 19],
    ]);
  });

  it('ignores text without templates and types a whole expression', () => {
    expect(checkTemplate('plain steps.a text')).toEqual({ problems: [], references: [] });
    expect(checkTemplate(' ${{ 1 + 1 }} ').type).toBe('int');
    expect(checkTemplate('n=${{ 1 + 1 }}').type).toBeUndefined();
  });
});

describe('checkCondition', () => {
  it('accepts bools and dyn, bare or wrapped', () => {
    expect(checkCondition('inputs.n > 1').problems).toEqual([]);
    expect(checkCondition('  ${{ steps.a.output.ok }}').problems).toEqual([]);
    expect(checkCondition('  ${{ steps.a.output.ok }}').references[0].offset).toBe(6);
  });

  it('rejects non-bool conditions when the type is known', () => {
    expect(checkCondition('${{ 1 + 2 }}').problems).toEqual([
      { code: 'CONDITION_NOT_BOOL', severity: 'error', message: 'the condition must be a bool, but it is an int', offset: 0 },
    ]);
    expect(checkCondition('"yes"').problems[0].message).toContain('but it is a string');
  });

  it('rejects several templates in one condition', () => {
    expect(checkCondition('${{ true }} && ${{ false }}').problems[0].code).toBe('NOT_SINGLE_EXPRESSION');
    expect(checkCondition('${{ true').problems[0].code).toBe('TEMPLATE_SYNTAX');
    expect(checkCondition('inputs.ok && ${{ true }}').problems).toEqual([expect.objectContaining({ code: 'NOT_SINGLE_EXPRESSION', offset: 13 })]);
  });
});

describe('checkSingleExpression', () => {
  it('reads a bare or wrapped expression of any type', () => {
    expect(checkSingleExpression('steps.a.output.rows.map(r, r.id)')).toMatchObject({ problems: [], type: 'list' });
    expect(checkSingleExpression(' ${{ size(steps.a.output.rows) + 1 }}')).toMatchObject({
      problems: [],
      type: 'int',
      references: [{ scope: 'steps', name: 'a', field: 'output', offset: 10 }],
    });
  });

  it('reads `${{` inside a bare expression as CEL, like the engine does', () => {
    expect(checkSingleExpression('inputs.x == "${{"')).toMatchObject({ problems: [], type: 'bool' });
  });

  it('points syntax errors into the wrapped source', () => {
    expect(checkSingleExpression('${{ 1 + }}').problems).toEqual([expect.objectContaining({ code: 'CEL_SYNTAX', offset: 7 })]);
  });
});

describe('checkExpression: what is statically too expensive', () => {
  it('rejects comprehensions nested deeper than the limit', () => {
    const three = 'inputs.xs.all(a, inputs.xs.all(b, inputs.xs.all(c, a + b + c >= 0)))';
    expect(checkExpression(three).problems).toEqual([]);
    const four = 'inputs.xs.all(a, inputs.xs.all(b, inputs.xs.all(c, inputs.xs.exists(d, a + b + c + d >= 0))))';
    expect(checkExpression(four).problems).toEqual([expect.objectContaining({ code: 'CEL_SYNTAX', message: expect.stringContaining('nested more than 3 deep') })]);
    // Siblings are not nesting.
    expect(checkExpression('inputs.xs.all(a, a > 0) && inputs.xs.map(b, b).filter(c, c > 1).exists(d, d == 2)').problems).toEqual([]);
  });

  it('rejects literal regexes RE2 cannot run', () => {
    expect(checkExpression("inputs.s.matches('^(a+)+$')").problems).toEqual([]);
    const problems = checkExpression("inputs.s.matches('(a)\\\\1')").problems;
    expect(problems).toEqual([expect.objectContaining({ code: 'CEL_SYNTAX', offset: 17, message: expect.stringContaining('RE2') })]);
  });
});
