import type { Diagnostic } from './diagnostic.util';
import { parseWorkflow } from './parse-workflow.util';
import type { WorkflowSpec } from './spec.schema';
import { validateSpec } from './validate-spec.util';

const brief = (d: Diagnostic) => `${d.severity} ${d.code} ${d.path}: ${d.message}`;
const workflow = (key: string, inputs: WorkflowSpec['inputs'] = { customerId: { type: 'string', required: true } }): WorkflowSpec => ({
  apiVersion: 'weft/v1',
  kind: 'Workflow',
  name: 'w',
  inputs,
  concurrency: { limit: 2, key },
  steps: [{ id: 'a', action: 'noop' }],
});

describe('validateSpec: a workflow concurrency.key reads inputs only', () => {
  it('accepts a key over required inputs, inputs with a default, and a constant key', () => {
    expect(validateSpec(workflow('${{ inputs.customerId }}'))).toEqual([]);
    expect(validateSpec(workflow('tenant-${{ inputs.region }}', { region: { type: 'string', default: 'eu' } }))).toEqual([]);
    expect(validateSpec(workflow('shared'))).toEqual([]);
  });

  it('refuses a key that reads run, steps or another variable, naming the field', () => {
    expect(validateSpec(workflow('${{ run.id }}')).map(brief)).toEqual([
      'error CEL_TYPE concurrency.key: concurrency.key reads "run": concurrency.key is rendered before the run starts, from its inputs alone',
    ]);
    expect(validateSpec(workflow('${{ inputs.customerId }}/${{ steps.a.output }}')).map(brief)).toEqual([
      'error CEL_TYPE concurrency.key: concurrency.key reads "steps": concurrency.key is rendered before the run starts, from its inputs alone',
    ]);
    expect(validateSpec(workflow('${{ item }}')).map((d) => d.code)).toEqual(['CEL_TYPE']);
  });

  it('refuses a key that could fail to render: unknown input, optional input without default, bad syntax', () => {
    expect(validateSpec(workflow('${{ inputs.customer }}')).map(brief)).toEqual(['error UNKNOWN_INPUT_REF concurrency.key: concurrency.key reads unknown input "customer"']);
    expect(validateSpec(workflow('${{ inputs.region }}', { region: { type: 'string' } })).map(brief)).toEqual([
      'error INVALID_VALUE concurrency.key: concurrency.key reads input "region", which a run may not have: the key could not be rendered',
    ]);
    expect(validateSpec(workflow('${{ inputs.customerId + }}')).map((d) => `${d.code} ${d.path}`)).toEqual(['CEL_SYNTAX concurrency.key']);
    expect(validateSpec(workflow('${{ inputs.customerId ')).map((d) => `${d.code} ${d.path}`)).toEqual(['TEMPLATE_SYNTAX concurrency.key']);
  });

  it('points at the key in YAML', () => {
    const text = ['apiVersion: weft/v1', 'kind: Workflow', 'name: w', 'concurrency:', '  limit: 1', '  key: ${{ run.id }}', 'steps:', '  - id: a', '    action: noop', ''].join('\n');
    const { spec, diagnostics } = parseWorkflow(text, 'flow.yaml');
    expect(spec).toBeUndefined();
    expect(diagnostics).toEqual([expect.objectContaining({ path: 'concurrency.key', line: 6, code: 'CEL_TYPE', hint: expect.stringContaining('inputs.customerId') })]);
  });
});
