import { checkTemplate } from '../expr';
import { DiagnosticCode, type DiagnosticSink } from './diagnostic.util';
import type { WorkflowSpec } from './spec.schema';
import { reportExprProblems } from './spec-strings.util';

const PATH = ['concurrency', 'key'] as const;
const ONLY_INPUTS = 'concurrency.key is rendered before the run starts, from its inputs alone';

/**
 * A workflow's `concurrency.key` (docs/flow-control.md): the run's slot is asked for before
 * any step runs, so the key may read `inputs` only, and only inputs every run has (required,
 * or with a default). A key that reads anything else, or one that could fail to render, is an
 * error here instead of every run silently sharing the empty key.
 */
export function validateWorkflowConcurrency(spec: WorkflowSpec, sink: DiagnosticSink): void {
  const key = spec.concurrency?.key;
  if (key === undefined) return;
  const check = checkTemplate(key, undefined, 'admission');
  for (const problem of check.problems) {
    const unknown = /Unknown variable: (\w+)/.exec(problem.message)?.[1];
    if (unknown === undefined) continue;
    sink.add(PATH, DiagnosticCode.CelType, `concurrency.key reads "${unknown}": ${ONLY_INPUTS}`, {
      offset: problem.offset,
      hint: 'key runs by an input, e.g. key: ${{ inputs.customerId }}',
    });
  }
  reportExprProblems(sink, { problems: check.problems.filter((p) => !/Unknown variable: /.test(p.message)), references: [] }, PATH);
  const inputs = spec.inputs ?? {};
  for (const ref of check.references) {
    if (ref.scope !== 'inputs') continue;
    const decl = inputs[ref.name];
    if (decl === undefined) {
      const declared = Object.keys(inputs);
      sink.add(PATH, DiagnosticCode.UnknownInputRef, `concurrency.key reads unknown input "${ref.name}"`, {
        offset: ref.offset,
        hint: declared.length > 0 ? `declared inputs: ${declared.join(', ')}` : `declare it under inputs, e.g. inputs: { ${ref.name}: { type: string, required: true } }`,
      });
    } else if (decl.required !== true && decl.default === undefined) {
      sink.add(PATH, DiagnosticCode.InvalidValue, `concurrency.key reads input "${ref.name}", which a run may not have: the key could not be rendered`, {
        offset: ref.offset,
        hint: `make it required: true, or give it a default`,
      });
    }
  }
}
