import { formatDiagnostic } from './diagnostic.util';
import { resolveInputs } from './resolve-inputs.util';
import type { WorkflowSpec } from './spec.schema';

const spec: WorkflowSpec = {
  apiVersion: 'weft/v1',
  kind: 'Workflow',
  name: 'w',
  inputs: {
    source: { type: 'string', required: true },
    batchSize: { type: 'integer', default: 100 },
    ratio: { type: 'number' },
    dryRun: { type: 'boolean', default: false },
    options: { type: 'object', default: { deep: { x: 1 } } },
    ids: { type: 'array' },
  },
  steps: [{ id: 'a', action: 'noop' }],
};

describe('resolveInputs', () => {
  it('applies defaults and keeps given values', () => {
    const { inputs, diagnostics } = resolveInputs(spec, { source: 's3://b', ratio: 0.5 });
    expect(diagnostics).toEqual([]);
    expect(inputs).toEqual({ source: 's3://b', ratio: 0.5, batchSize: 100, dryRun: false, options: { deep: { x: 1 } } });
  });

  it('copies defaults so a run cannot change the spec', () => {
    const { inputs } = resolveInputs(spec, { source: 'x' });
    (inputs.options as { deep: { x: number } }).deep.x = 2;
    expect(spec.inputs?.options.default).toEqual({ deep: { x: 1 } });
  });

  it('reports every problem: missing required, unknown (with suggestion) and wrong types', () => {
    const { diagnostics } = resolveInputs(spec, { batchsize: 5, ratio: 'high', ids: {}, batchSize: 1.5 });
    expect(diagnostics.map(formatDiagnostic)).toEqual([
      'error inputs.batchsize: unknown input "batchsize" (did you mean "batchSize"?)',
      'error inputs.ratio: input "ratio" must be a number, got a string ("high")',
      'error inputs.ids: input "ids" must be an array, got an object',
      'error inputs.batchSize: input "batchSize" must be an integer, got a number (1.5)',
      'error inputs.source: missing required input "source" (string)',
    ]);
    expect(diagnostics.map((d) => d.code)).toEqual(['INPUT_UNKNOWN', 'INPUT_TYPE', 'INPUT_TYPE', 'INPUT_TYPE', 'INPUT_MISSING']);
  });

  it('converts command-line strings to the declared types', () => {
    const { inputs, diagnostics } = resolveInputs(
      spec,
      { source: '42', batchSize: '5', ratio: '-2.5e1', dryRun: 'true', options: '{"a":[1]}', ids: '[1,"x"]' },
      { fromStrings: true, file: '--input' },
    );
    expect(diagnostics).toEqual([]);
    expect(inputs).toEqual({ source: '42', batchSize: 5, ratio: -25, dryRun: true, options: { a: [1] }, ids: [1, 'x'] });
  });

  it('reports strings that do not convert, naming the file given', () => {
    const { diagnostics } = resolveInputs(spec, { source: 'x', batchSize: '5.5', ratio: '', dryRun: 'yes', options: '[1]', ids: '{oops' }, { fromStrings: true, file: 'cli' });
    expect(diagnostics.map(formatDiagnostic)).toEqual([
      'cli error inputs.batchSize: input "batchSize" must be an integer, got a string ("5.5")',
      'cli error inputs.ratio: input "ratio" must be a number, got a string ("")',
      'cli error inputs.dryRun: input "dryRun" must be a boolean, got a string ("yes")',
      'cli error inputs.options: input "options" must be an object, got a string ("[1]")',
      'cli error inputs.ids: input "ids" must be an array, got a string ("{oops")',
    ]);
    expect(diagnostics[4].hint).toContain('JSON');
  });

  it('does not convert without fromStrings', () => {
    expect(resolveInputs(spec, { source: 'x', batchSize: '5' }).diagnostics.map((d) => d.code)).toEqual(['INPUT_TYPE']);
  });

  it('rejects any input when none are declared', () => {
    const bare: WorkflowSpec = { ...spec, inputs: undefined };
    const { diagnostics } = resolveInputs(bare, { x: 1 });
    expect(diagnostics[0]).toMatchObject({ code: 'INPUT_UNKNOWN', hint: 'workflow "w" declares no inputs' });
  });
});
