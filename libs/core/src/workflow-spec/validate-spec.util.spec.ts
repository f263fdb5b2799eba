import type { Diagnostic } from './diagnostic.util';
import { parseWorkflow } from './parse-workflow.util';
import type { StepSpec, WorkflowSpec } from './spec.schema';
import { validateSpec } from './validate-spec.util';

const workflow = (steps: StepSpec[], extra: Partial<WorkflowSpec> = {}): WorkflowSpec => ({ apiVersion: 'weft/v1', kind: 'Workflow', name: 'w', steps, ...extra });
const brief = (d: Diagnostic) => `${d.severity} ${d.code} ${d.path}: ${d.message}`;
const noop = (id: string, needs?: string[], more: Partial<StepSpec> = {}): StepSpec => ({ id, action: 'noop', ...(needs ? { needs } : {}), ...more });

describe('validateSpec: the DAG', () => {
  it('accepts a valid spec', () => {
    expect(validateSpec(workflow([noop('a'), noop('b', ['a']), noop('c', ['a', 'b'])]))).toEqual([]);
  });

  it('reports duplicate ids, unknown needs with a suggestion, self needs and duplicate needs', () => {
    const spec = workflow([noop('build'), noop('test', ['buidl', 'test', 'build', 'build']), noop('build')]);
    expect(validateSpec(spec).map(brief)).toEqual([
      'error DUPLICATE_STEP_ID steps[2].id: duplicate step id "build" (first declared at steps[0])',
      'error UNKNOWN_NEED steps[1].needs[0]: unknown step "buidl" (did you mean "build"?)',
      'error SELF_NEED steps[1].needs[1]: step "test" needs itself',
      'warning DUPLICATE_NEED steps[1].needs[3]: "build" is listed twice in needs',
    ]);
  });

  it('reports each cycle once, printed in execution order, at the need that closes it', () => {
    const spec = workflow([noop('a', ['c']), noop('b', ['a']), noop('c', ['b']), noop('x', ['y']), noop('y', ['x']), noop('ok', ['a'])]);
    expect(validateSpec(spec).map(brief)).toEqual([
      'error CYCLE steps[0].needs[0]: dependency cycle: a -> b -> c -> a',
      'error CYCLE steps[3].needs[0]: dependency cycle: x -> y -> x',
    ]);
  });

  it('has no positions without a locator and uses the one given', () => {
    const [plain] = validateSpec(workflow([noop('a', ['zz'])]));
    expect(plain).toMatchObject({ file: '', line: 0, col: 0 });
    const [located] = validateSpec(workflow([noop('a', ['zz'])]), (path) => ({ line: path.length, col: 7 }), 'sdk.ts');
    expect(located).toMatchObject({ file: 'sdk.ts', line: 4, col: 7 });
  });
});

describe('validateSpec: expressions', () => {
  it('accepts references to upstream steps, transitively, and to declared inputs', () => {
    const spec = workflow(
      [
        noop('a'),
        noop('b', ['a']),
        noop('c', ['b'], { with: { x: '${{ steps.a.output.x + 1 }}', deep: [{ y: 'n=${{ inputs.n }}' }] }, if: 'steps.b.status == "completed"' }),
      ],
      { inputs: { n: { type: 'integer' } }, outputs: { all: '${{ [steps.a.output, steps.c.output] }}' } },
    );
    expect(validateSpec(spec)).toEqual([]);
  });

  it('reports references to unknown, non-upstream, downstream and own steps with hints', () => {
    const spec = workflow([
      noop('a', undefined, { with: { x: '${{ steps.c.output }}' } }),
      noop('b', undefined, { with: { x: '${{ steps.a.output }}', y: '${{ steps.bild.output }}' } }),
      noop('c', ['a'], { if: '${{ steps.c.output.ok }}' }),
    ]);
    const diagnostics = validateSpec(spec);
    expect(diagnostics.map(brief)).toEqual([
      'error NOT_UPSTREAM_REF steps[0].with.x: steps.c is read by step "a", which does not need it',
      'error NOT_UPSTREAM_REF steps[1].with.x: steps.a is read by step "b", which does not need it',
      'error UNKNOWN_STEP_REF steps[1].with.y: unknown step "bild" in steps.bild',
      'error SELF_REF steps[2].if: step "c" reads its own result (steps.c)',
    ]);
    expect(diagnostics[0].hint).toBe('"c" runs after "a" (it needs it), so its result cannot exist yet');
    expect(diagnostics[1].hint).toBe('add "a" to the needs of "b" (directly or through a step it needs)');
  });

  it('suggests close step names', () => {
    const spec = workflow([noop('build'), noop('test', ['build'], { with: { x: '${{ steps.buidl.output }}' } })]);
    expect(validateSpec(spec).map((d) => d.message)).toEqual(['unknown step "buidl" in steps.buidl (did you mean "build"?)']);
  });

  it('lets run outputs read any step, but not unknown ones or unknown fields', () => {
    const spec = workflow([noop('a'), noop('b')], { outputs: { x: '${{ steps.a.output }}', y: { z: ['${{ steps.nope.output }}', '${{ steps.b.outptu }}'] } } });
    expect(validateSpec(spec).map(brief)).toEqual([
      'error UNKNOWN_STEP_REF outputs.y.z[0]: unknown step "nope" in steps.nope',
      'error UNKNOWN_STEP_FIELD outputs.y.z[1]: steps.b has no field "outptu" (did you mean "output"?)',
    ]);
  });

  it('reports undeclared inputs with a suggestion', () => {
    const spec = workflow([noop('a', undefined, { with: { u: '${{ inputs.sorce }}', v: '${{ inputs.other }}' } })], { inputs: { source: { type: 'string' } } });
    const diagnostics = validateSpec(spec);
    expect(diagnostics.map(brief)).toEqual([
      'error UNKNOWN_INPUT_REF steps[0].with.u: unknown input "sorce" (did you mean "source"?)',
      'error UNKNOWN_INPUT_REF steps[0].with.v: unknown input "other"',
    ]);
    expect(diagnostics[1].hint).toBe('declared inputs: source');
  });

  it('reports template, CEL syntax and CEL type errors, and non-bool conditions', () => {
    const spec = workflow([
      noop('a', undefined, { with: { t: '${{ 1 + ', p: '${{ inputs. }}', q: '${{ "x" - 1 }}' }, if: '${{ 1 + 2 }}' }),
      noop('b', undefined, { if: 'nope == 1' }),
    ]);
    expect(validateSpec(spec).map((d) => `${d.code} ${d.path}`)).toEqual([
      'TEMPLATE_SYNTAX steps[0].with.t',
      'CEL_SYNTAX steps[0].with.p',
      'CEL_TYPE steps[0].with.q',
      'CONDITION_NOT_BOOL steps[0].if',
      'CEL_TYPE steps[1].if',
    ]);
  });

  it('makes the int/double seam type-check: integer JSON numbers mix with doubles', () => {
    const spec = workflow([noop('a'), noop('b', ['a'], { with: { x: '${{ steps.a.output.n * 1.5 + 1 }}' }, if: '${{ steps.a.output.n + 0.5 > 1 }}' })]);
    expect(validateSpec(spec)).toEqual([]);
  });

  it('requires with.expr on transform steps and checks it as one expression', () => {
    const spec = workflow([
      noop('a'),
      { id: 't1', needs: ['a'], action: 'transform' },
      { id: 't2', needs: ['a'], action: 'transform', with: { other: 1 } },
      { id: 't3', needs: ['a'], action: 'transform', with: { expr: 42 } },
      { id: 't4', needs: ['a'], action: 'transform', with: { expr: 'steps.a.output.rows.map(r, r.id' } },
      { id: 't5', needs: ['a'], action: 'transform', with: { expr: '${{ size(steps.a.output.rows) }} rows' } },
      { id: 't6', action: 'transform', with: { expr: '${{ steps.a.output.rows }}' } },
      { id: 't7', needs: ['a'], action: 'transform', with: { expr: '${{ steps.a.output.rows.map(r, r.id) }}' } },
    ]);
    expect(validateSpec(spec).map((d) => `${d.code} ${d.path}`)).toEqual([
      'TRANSFORM_EXPR steps[1]',
      'TRANSFORM_EXPR steps[2].with',
      'TRANSFORM_EXPR steps[3].with.expr',
      'CEL_SYNTAX steps[4].with.expr',
      'NOT_SINGLE_EXPRESSION steps[5].with.expr',
      'NOT_UPSTREAM_REF steps[6].with.expr',
    ]);
  });

  it('warns about computed step names it cannot check', () => {
    const spec = workflow([noop('a', undefined, { with: { x: '${{ steps[inputs.which].output }}' } })], { inputs: { which: { type: 'string' } } });
    expect(validateSpec(spec).map(brief)).toEqual([
      'warning DYNAMIC_REFERENCE steps[0].with.x: steps[...] with a computed name cannot be checked; write steps.<name>',
    ]);
  });
});

describe('validateSpec: durations, retry, inputs', () => {
  it('rejects zero timeouts and durations too long to represent', () => {
    const spec = workflow([noop('a', undefined, { timeout: '0ms' }), noop('b', undefined, { timeout: '99999999999999999d' })], { timeout: '0s', defaults: { timeout: '0m' } });
    expect(validateSpec(spec).map((d) => `${d.code} ${d.path}`)).toEqual([
      'ZERO_TIMEOUT timeout',
      'ZERO_TIMEOUT defaults.timeout',
      'ZERO_TIMEOUT steps[0].timeout',
      'INVALID_DURATION steps[1].timeout',
    ]);
  });

  it('rejects initialInterval above maxInterval, and warns when above the default cap', () => {
    const spec = workflow([
      noop('a', undefined, { retry: { initialInterval: '2m', maxInterval: '1m' } }),
      noop('b', undefined, { retry: { initialInterval: '5m' } }),
      noop('c', undefined, { retry: { initialInterval: '1s', maxInterval: '1s' } }),
    ], { defaults: { retry: { initialInterval: '10s', maxInterval: '5s' } } });
    expect(validateSpec(spec).map(brief)).toEqual([
      'error RETRY_INTERVALS defaults.retry.initialInterval: initialInterval (10s) is longer than maxInterval (5s)',
      'error RETRY_INTERVALS steps[0].retry.initialInterval: initialInterval (2m) is longer than maxInterval (1m)',
      'warning RETRY_INTERVALS steps[1].retry.initialInterval: initialInterval (5m) is longer than the default maxInterval (1m), which caps every delay',
    ]);
  });

  it('checks input defaults against their declared type', () => {
    const spec = workflow([noop('a')], {
      inputs: {
        n: { type: 'integer', default: 1.5 },
        s: { type: 'string', default: 'ok' },
        o: { type: 'object', default: [] },
        a: { type: 'array', default: [1] },
        b: { type: 'boolean', default: 'true' },
      },
    });
    expect(validateSpec(spec).map(brief)).toEqual([
      'error INPUT_DEFAULT_TYPE inputs.n.default: default of input "n" must be an integer, got a number (1.5)',
      'error INPUT_DEFAULT_TYPE inputs.o.default: default of input "o" must be an object, got an array',
      'error INPUT_DEFAULT_TYPE inputs.b.default: default of input "b" must be a boolean, got a string ("true")',
    ]);
  });
});

describe('validateSpec through parseWorkflow: positions', () => {
  it('points each semantic problem at its line and column', () => {
    const text = [
      'apiVersion: weft/v1',
      'kind: Workflow',
      'name: w',
      'inputs:',
      '  n: { type: integer, default: "5" }', // 5
      'defaults:',
      '  retry: { initialInterval: 2m, maxInterval: 1m }', // 7
      'steps:',
      '  - id: a', // 9
      '    needs: [c]', // 10
      '    action: noop',
      '    timeout: 0s', // 12
      '  - id: b',
      '    action: noop',
      '    if: "${{ steps.a.output.ok }}"', // 15
      '  - id: c',
      '    needs: [a]', // 17
      '    action: noop',
      '  - id: a', // 19
      '    action: noop',
    ].join('\n');
    const result = parseWorkflow(text, 'flow.yaml');
    expect(result.diagnostics.map((d) => `${d.line}:${d.col} ${d.code}`)).toEqual([
      '5:32 INPUT_DEFAULT_TYPE',
      '7:29 RETRY_INTERVALS',
      '10:13 CYCLE',
      '12:14 ZERO_TIMEOUT',
      '15:14 NOT_UPSTREAM_REF',
      '19:9 DUPLICATE_STEP_ID',
    ]);
  });
});
