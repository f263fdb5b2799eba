import { formatDiagnostic } from './diagnostic.util';
import { parseWorkflow } from './parse-workflow.util';
import { MAX_YAML_PROBLEMS } from './yaml-problems.util';

// Issue 17 item 7: one message per YAML mistake with its line and a hint for the common ones,
// an `if:` known not to be a bool refused, steps named by id.

const HEAD = 'apiVersion: weft/v1\nkind: Workflow\nname: flow\n';
const shown = (text: string): string[] => parseWorkflow(text, 'flow.yaml').diagnostics.flatMap((d) => [formatDiagnostic(d), ...(d.hint ? [`hint: ${d.hint}`] : [])]);

describe('YAML mistakes, explained', () => {
  it('an unquoted ${{ }} in a flow map: one message on its line, "quote the expression"', () => {
    const text = `${HEAD}steps:\n  - id: a\n    action: log\n    with: { message: \${{ inputs.x }} }\n`;
    expect(shown(text)).toEqual([
      'flow.yaml:7:22 error: YAML: an unquoted ${{ inputs.x }} inside { } or [ ] is read as YAML braces',
      'hint: quote the expression: "${{ inputs.x }}"',
    ]);
  });

  it('the same in a flow sequence', () => {
    const text = `${HEAD}steps:\n  - id: a\n    action: log\n    needs: [\${{ inputs.x }}]\n`;
    expect(shown(text)).toHaveLength(2);
    expect(shown(text)[1]).toBe('hint: quote the expression: "${{ inputs.x }}"');
  });

  it('a key indented further than its siblings: one message at the key, naming both indents', () => {
    const text = `${HEAD}steps:\n  - id: a\n    action: log\n     with:\n      message: hi\n`;
    expect(shown(text)).toEqual([
      'flow.yaml:7:6 error: YAML: mis-indented key "with": 5 spaces, more than "action" on the line above (4)',
      'hint: keys of one mapping start in the same column; a nested mapping goes on the next lines, indented further',
    ]);
  });

  it('a key indented less than its siblings: one message with the indentation hint', () => {
    const text = `${HEAD}steps:\n  - id: a\n    action: log\n    with:\n      message: hi\n     other: x\n`;
    const lines = shown(text);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^flow\.yaml:9:\d+ error: YAML: mis-indented key "other" \(5 spaces\)$/);
    expect(lines[1]).toMatch(/^hint: keys of one mapping start in the same column/);
  });

  it(`many broken lines: at most ${MAX_YAML_PROBLEMS} messages and one saying how many more`, () => {
    const broken = Array.from({ length: 40 }, (_, i) => `  - id: s${i}\n    action: log\n    with: { message: \${{ inputs.x }} }\n`).join('');
    const diagnostics = parseWorkflow(`${HEAD}steps:\n${broken}`, 'flow.yaml').diagnostics;
    expect(diagnostics).toHaveLength(MAX_YAML_PROBLEMS + 1);
    expect(new Set(diagnostics.map((d) => d.line)).size).toBe(MAX_YAML_PROBLEMS + 1);
    expect(diagnostics[MAX_YAML_PROBLEMS]?.message).toMatch(/^YAML: problems on \d+ more lines from line \d+ on \(they often follow from the ones above\)$/);
    expect(diagnostics[MAX_YAML_PROBLEMS]?.line).toBeGreaterThan(diagnostics[MAX_YAML_PROBLEMS - 1]?.line ?? Infinity);
  });
});

describe('steps named by id', () => {
  it('an if: whose type is known not to be a bool is an error at steps.<id>.if', () => {
    const text = `${HEAD}inputs:\n  name: { type: string }\nsteps:\n  - id: a\n    action: log\n    with: { message: hi }\n  - id: check\n    action: log\n    if: \${{ size(inputs.name) }}\n    with: { message: x }\n  - id: sum\n    action: log\n    if: \${{ 1 + 2 }}\n    with: { message: x }\n`;
    const result = parseWorkflow(text, 'flow.yaml');
    expect(result.spec).toBeUndefined();
    expect(result.diagnostics.map(formatDiagnostic)).toEqual([
      'flow.yaml:12:9 error steps.check.if: the condition must be a bool, but it is an int',
      'flow.yaml:16:9 error steps.sum.if: the condition must be a bool, but it is an int',
    ]);
    // The path stays by index for what locates by it (editors, the console); the id comes along.
    expect(result.diagnostics.map((d) => [d.path, d.step])).toEqual([
      ['steps[1].if', 'check'],
      ['steps[2].if', 'sum'],
    ]);
  });

  it('an if: reading an input declared as another type than boolean is an error', () => {
    const text = `${HEAD}inputs:\n  env: { type: string }\n  go: { type: boolean }\nsteps:\n  - id: deploy\n    action: log\n    if: \${{ inputs.env }}\n  - id: ok\n    action: log\n    if: inputs.go\n`;
    const result = parseWorkflow(text, 'flow.yaml');
    expect(result.diagnostics.map(formatDiagnostic)).toEqual(['flow.yaml:10:9 error steps.deploy.if: the condition must be a bool, but input "env" is declared as string']);
    expect(result.diagnostics[0]?.hint).toBe('compare it (e.g. inputs.env == ...), or declare it type: boolean');
  });

  it('a repeated id keeps the index', () => {
    const text = `${HEAD}steps:\n  - id: build\n    action: log\n  - id: build\n    action: log\n`;
    expect(parseWorkflow(text, 'flow.yaml').diagnostics.map(formatDiagnostic)).toEqual([expect.stringContaining('error steps[1].id: duplicate step id "build"')]);
  });

  it('schema errors name the step too; a step without a usable id keeps its index', () => {
    const text = `${HEAD}steps:\n  - id: build\n    action: log\n    timeout: 30 s\n  - id: 1st\n    action: log\n`;
    expect(parseWorkflow(text, 'flow.yaml').diagnostics.map(formatDiagnostic)).toEqual([
      expect.stringContaining('error steps.build.timeout: invalid timeout "30 s"'),
      expect.stringContaining('error steps[1].id: invalid id "1st"'),
    ]);
  });
});
