import { MAX_YAML_DEPTH, parseWorkflow } from './parse-workflow.util';

/** Issue 12: a file nested absurdly deep is refused before the YAML parser recurses through it. */
describe('parseWorkflow nesting bound', () => {
  const codes = (text: string) => parseWorkflow(text, 'w.yaml').diagnostics.map((d) => `${d.code} ${d.message}`);
  const refused = `YAML_SYNTAX YAML nested deeper than ${MAX_YAML_DEPTH} levels`;

  it('refuses flow and block nesting past the bound, and a JSON spec nested past it', () => {
    expect(codes(`x: ${'['.repeat(10_000)}${']'.repeat(10_000)}`)).toEqual([refused]);
    expect(codes(`${Array.from({ length: 3_000 }, (_, i) => `${' '.repeat(i)}a:`).join('\n')} 1`)).toEqual([refused]);
    expect(codes(`x:\n${'- '.repeat(200)}1`)).toEqual([refused]);
    expect(codes(`{"name": "x", "with": ${'{"a":'.repeat(500)}1${'}'.repeat(500)}}`)).toEqual([refused]);
  });

  it('lets ordinary files through: quotes, apostrophes, comments and expressions do not count', () => {
    const text = [
      'apiVersion: weft/v1',
      'kind: Workflow',
      'name: fine',
      "description: don't [ worry",
      'steps:',
      '  - id: a # a comment with [[[[ brackets',
      '    action: transform',
      `    with: { expr: "'[[[[' + '{{{{'", deep: ${'['.repeat(40)}1${']'.repeat(40)} }`,
      '  - id: b',
      '    needs: [a]',
      '    if: ${{ steps.a.output != null }}',
      '    action: noop',
    ].join('\n');
    expect(parseWorkflow(text, 'w.yaml').diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  });
});
