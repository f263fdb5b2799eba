import { type Diagnostic, formatDiagnostic } from './diagnostic.util';
import { parseWorkflow } from './parse-workflow.util';

/** `file:line:col code` for compact assertions. */
const where = (d: Diagnostic) => `${d.line}:${d.col} ${d.code} ${d.path}`;
const lines = (...rows: string[]) => `${rows.join('\n')}\n`;
const HEADER = ['apiVersion: weft/v1', 'kind: Workflow', 'name: data-pipeline'];

describe('parseWorkflow: valid files', () => {
  it('returns the spec of the design example without diagnostics', () => {
    const text = lines(
      ...HEADER,
      'description: Ingest, validate, transform and export a batch',
      'inputs:',
      '  source: { type: string, required: true }',
      '  batchSize: { type: integer, default: 100 }',
      'defaults:',
      '  timeout: 30s',
      '  retry: { maxAttempts: 3, backoff: exponential, initialInterval: 1s, maxInterval: 1m, jitter: true }',
      '  queue: default',
      'timeout: 15m',
      'onFailure: fail-fast',
      'steps:',
      '  - id: ingest',
      '    action: http.request',
      '    with: { url: "${{ inputs.source }}" }',
      '  - id: validate',
      '    needs: [ingest]',
      '    action: validate-records',
      '    with: { rows: "${{ steps.ingest.output.body }}", limit: "${{ inputs.batchSize + 1 }}" }',
      '  - id: transform',
      '    needs: [validate]',
      '    if: "${{ steps.validate.output.valid }}"',
      '    action: transform',
      '    with: { expr: "steps.validate.output.rows.map(r, r.id)" }',
      'outputs:',
      '  ids: "${{ steps.transform.output }}"',
    );
    const result = parseWorkflow(text, 'flow.yaml');
    expect(result.diagnostics).toEqual([]);
    expect(result.spec?.steps.map((s) => s.id)).toEqual(['ingest', 'validate', 'transform']);
    expect(result.spec?.inputs?.batchSize.default).toBe(100);
  });

  it('reads JSON as well', () => {
    const text = JSON.stringify({ apiVersion: 'weft/v1', kind: 'Workflow', name: 'j', steps: [{ id: 'a', action: 'noop' }] }, null, '\t');
    expect(parseWorkflow(text, 'flow.json')).toEqual({ spec: expect.objectContaining({ name: 'j' }), diagnostics: [] });
  });

  it('keeps warnings and still returns the spec', () => {
    const text = lines(...HEADER, 'steps:', '  - id: a', '    action: noop', '  - id: b', '    needs: [a, a]', '    action: noop');
    const result = parseWorkflow(text, 'flow.yaml');
    expect(result.diagnostics.map(where)).toEqual(['8:16 DUPLICATE_NEED steps[1].needs[1]']);
    expect(result.diagnostics[0].severity).toBe('warning');
    expect(result.spec).toBeDefined();
  });
});

describe('parseWorkflow: positions', () => {
  it('points a typo in needs at the exact entry and suggests the step', () => {
    const text = lines(
      ...HEADER,
      'steps:',
      '  - id: build',
      '    action: noop',
      '  - id: test',
      '    needs: [build]',
      '    action: noop',
      '  - id: deploy',
      '    needs:',
      '      - test',
      '      - buidl',
      '    action: noop',
    );
    const result = parseWorkflow(text, 'flow.yaml');
    expect(result.spec).toBeUndefined();
    expect(result.diagnostics.map(formatDiagnostic)).toEqual(['flow.yaml:13:9 error steps.deploy.needs[1]: unknown step "buidl" (did you mean "build"?)']);
  });

  it('reports YAML syntax errors with their position and stops there', () => {
    const result = parseWorkflow(lines(...HEADER, 'steps:', '  - id: a', '\taction: noop'), 'flow.yaml');
    expect(result.diagnostics).toEqual([
      expect.objectContaining({ line: 6, col: 1, code: 'YAML_SYNTAX', severity: 'error', hint: 'indent with spaces', message: expect.stringContaining('Tabs') }),
    ]);
    const dup = parseWorkflow(lines(...HEADER, 'name: again', 'steps: []'), 'flow.yaml');
    expect(dup.diagnostics.map((d) => `${where(d)} ${d.message}`)).toEqual(['4:1 YAML_SYNTAX  duplicate key "name"']);
    const unclosed = parseWorkflow(lines(...HEADER, 'steps: [', '  { id: a, action: noop }'), 'flow.yaml');
    expect(unclosed.diagnostics[0]).toMatchObject({ code: 'YAML_SYNTAX', line: 6 });
  });

  it('reports aliases that cannot be resolved', () => {
    const result = parseWorkflow(lines(...HEADER, 'steps: *missing'), 'flow.yaml');
    expect(result.diagnostics[0]).toMatchObject({ code: 'YAML_SYNTAX', severity: 'error' });
  });

  it('turns schema issues into readable diagnostics at the offending node', () => {
    const text = lines(
      'apiVersion: weft/v2', // 1
      'kind: Workflow',
      'name: Data Pipeline', // 3
      'onFailure: stop', // 4
      'defaults:',
      '  queue: GPU', // 6
      'inputs:',
      '  a-b: { type: string }', // 8
      '  n: { type: int }', // 9
      'steps:',
      '  - id: fetch', // 11
      '    neds: [x]', // 12
      '  - id: 1st', // 13
      '    action: noop',
      '    timeout: 30 s', // 15
      '    retry: { maxAttempts: 0 }', // 16
      '    needs: build', // 17
      '  - 5', // 18
    );
    const result = parseWorkflow(text, 'flow.yaml');
    expect(result.spec).toBeUndefined();
    expect(result.diagnostics.map((d) => `${where(d)}: ${d.message}`)).toEqual([
      '1:13 INVALID_VALUE apiVersion: unsupported value "weft/v2" for apiVersion: expected weft/v1',
      '3:7 INVALID_FORMAT name: invalid name "Data Pipeline": workflow names are kebab-case, e.g. data-pipeline',
      '4:12 INVALID_VALUE onFailure: unsupported value "stop" for onFailure: expected fail-fast or continue',
      '6:10 INVALID_FORMAT defaults.queue: invalid queue "GPU": queue names are lower-case letters, digits, _ and -, e.g. gpu-jobs',
      '8:3 INVALID_KEY inputs["a-b"]: invalid key "a-b" in inputs: input names are identifiers: letters, digits and _, not starting with a digit',
      '9:14 INVALID_VALUE inputs.n.type: unsupported value "int" for type: expected one of string, integer, number, boolean, object or array',
      '11:5 MISSING_FIELD steps[0].action: missing required field "action"',
      '12:5 UNKNOWN_FIELD steps[0].neds: unknown field "neds" (did you mean "needs"?)',
      '13:9 INVALID_FORMAT steps[1].id: invalid id "1st": step ids are identifiers: letters, digits and _, not starting with a digit',
      '15:14 INVALID_FORMAT steps[1].timeout: invalid timeout "30 s": expected a duration such as 500ms, 30s, 5m, 2h or 1h30m',
      '16:27 OUT_OF_RANGE steps[1].retry.maxAttempts: maxAttempts must be at least 1',
      '17:12 INVALID_TYPE steps[1].needs: needs must be an array (a list), got a string ("build")',
      '18:5 INVALID_TYPE steps[2]: steps[2] must be an object (a mapping of keys to values), got an integer (5)',
    ]);
  });

  it('lists the allowed fields when a typo is not close to any', () => {
    const result = parseWorkflow(lines(...HEADER, 'steps:', '  - id: a', '    action: noop', '    zzzzzz: 1'), 'flow.yaml');
    expect(result.diagnostics[0]).toMatchObject({ line: 7, col: 5, code: 'UNKNOWN_FIELD', hint: expect.stringContaining('allowed here: id, name, needs, action') });
  });

  it('explains an empty document and a workflow without steps', () => {
    expect(parseWorkflow('', 'flow.yaml').diagnostics.map(formatDiagnostic)).toEqual([
      'flow.yaml:1:1 error: the document is empty: expected a workflow (apiVersion: weft/v1, kind: Workflow, name, steps)',
    ]);
    expect(parseWorkflow(lines(...HEADER, 'steps: []'), 'flow.yaml').diagnostics.map(formatDiagnostic)).toEqual([
      'flow.yaml:4:8 error steps: a workflow needs at least one step',
    ]);
    expect(parseWorkflow(lines(...HEADER), 'flow.yaml').diagnostics.map(formatDiagnostic)).toEqual([
      'flow.yaml:1:1 error steps: missing required field "steps"',
    ]);
  });

  it('points expression errors at the character inside the string', () => {
    const text = lines(
      ...HEADER,
      'inputs:',
      '  source: { type: string }',
      'steps:',
      '  - id: a',
      '    action: noop',
      '    with:',
      '      plain: x ${{ inputs.sorce }}', // 10
      "      single: 'it''s ${{ steps.b.output }}'", // 11
      '      double: "say \\"hi\\" ${{ 1 + }}"', // 12
      '      block: |', // 13
      '        first line',
      '        then ${{ steps.zz.output }}', // 15
      '    if: inputs.source == 1 && ${{ true }}', // 16
      '  - id: b',
      '    action: noop',
    );
    const result = parseWorkflow(text, 'flow.yaml');
    expect(result.diagnostics.map(where)).toEqual([
      '10:20 UNKNOWN_INPUT_REF steps[0].with.plain',
      '11:26 NOT_UPSTREAM_REF steps[0].with.single',
      '12:34 CEL_SYNTAX steps[0].with.double',
      '15:18 UNKNOWN_STEP_REF steps[0].with.block',
      '16:31 NOT_SINGLE_EXPRESSION steps[0].if',
    ]);
  });

  it('maps positions inside JSON strings with escapes', () => {
    const text = '{"apiVersion": "weft/v1", "kind": "Workflow", "name": "j",\n "steps": [{"id": "a", "action": "noop", "with": {"x": "\\"q\\" ${{ steps.zz.output }}"}}]}';
    const [d] = parseWorkflow(text, 'flow.json').diagnostics;
    const line2 = text.split('\n')[1];
    expect(d).toMatchObject({ code: 'UNKNOWN_STEP_REF', line: 2, col: line2.indexOf('steps.zz') + 1 });
  });
});

describe('parseWorkflow: maxSteps (WEFT_MAX_STEPS)', () => {
  const flow = (n: number) => lines(...HEADER, 'steps:', ...Array.from({ length: n }, (_, i) => `  - {id: s${i}, action: noop}`));

  it('accepts exactly maxSteps steps', () => {
    const parsed = parseWorkflow(flow(5), 'big.yaml', { maxSteps: 5 });
    expect(parsed.diagnostics).toEqual([]);
    expect(parsed.spec?.steps).toHaveLength(5);
  });

  it('refuses one more with a single TOO_MANY_STEPS error at the steps list, before any other check', () => {
    // Two steps share an id: a validation error the size check must not wait for.
    const text = flow(6).replace('id: s5', 'id: s4');
    const parsed = parseWorkflow(text, 'big.yaml', { maxSteps: 5 });
    expect(parsed.spec).toBeUndefined();
    expect(parsed.diagnostics.map(where)).toEqual(['5:3 TOO_MANY_STEPS steps']);
    expect(parsed.diagnostics[0].message).toBe('6 steps; at most 5 are allowed');
  });

  it('defaults to 100,000 steps', () => {
    expect(parseWorkflow(flow(3), 'small.yaml').spec?.steps).toHaveLength(3);
  });
});
