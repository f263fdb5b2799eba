import { WorkflowSpec } from '@weft/core';
import { type BuildDiagnostic } from '../sdk.error';

/**
 * Structural checks of a workflow spec: the v1 schema, unique step ids, `needs`
 * naming existing steps, and no cycles.
 * Interim: replaced by @weft/core's `validateSpec` once it lands, so the SDK and
 * the engine reject exactly the same specs.
 */
export function checkWorkflow(spec: unknown): BuildDiagnostic[] {
  const parsed = WorkflowSpec.safeParse(spec);
  if (!parsed.success) {
    return parsed.error.issues.map((issue) => ({ code: 'SCHEMA', message: issue.message, path: formatPath(issue.path) }));
  }
  const steps = parsed.data.steps;
  const diagnostics: BuildDiagnostic[] = [];
  const firstIndex = new Map<string, number>();
  steps.forEach((step, i) => {
    const seen = firstIndex.get(step.id);
    if (seen === undefined) firstIndex.set(step.id, i);
    else diagnostics.push({ code: 'DUPLICATE_STEP_ID', message: `step id "${step.id}" is already used by steps[${seen}]`, path: `steps[${i}].id` });
  });
  steps.forEach((step, i) => {
    (step.needs ?? []).forEach((need, j) => {
      if (need === step.id) diagnostics.push({ code: 'SELF_NEED', message: `step "${step.id}" needs itself`, path: `steps[${i}].needs[${j}]` });
      else if (!firstIndex.has(need)) {
        diagnostics.push({ code: 'UNKNOWN_NEED', message: `step "${step.id}" needs "${need}", which is not a step`, path: `steps[${i}].needs[${j}]` });
      }
    });
  });
  const cycle = findCycle(steps.map((s) => ({ id: s.id, needs: (s.needs ?? []).filter((n) => n !== s.id && firstIndex.has(n)) })));
  if (cycle) diagnostics.push({ code: 'CYCLE', message: `steps form a cycle: ${cycle.join(' -> ')}`, path: 'steps' });
  return diagnostics;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)), '');
}

/** Depth-first search over `needs`; returns one cycle as a list of ids (first id repeated at the end). */
function findCycle(nodes: readonly { id: string; needs: readonly string[] }[]): string[] | undefined {
  const needs = new Map(nodes.map((n) => [n.id, n.needs]));
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (id: string): string[] | undefined => {
    const mark = state.get(id);
    if (mark === 'done') return undefined;
    if (mark === 'visiting') return [...stack.slice(stack.indexOf(id)), id];
    state.set(id, 'visiting');
    stack.push(id);
    for (const need of needs.get(id) ?? []) {
      const found = visit(need);
      if (found) return found;
    }
    stack.pop();
    state.set(id, 'done');
    return undefined;
  };
  for (const node of nodes) {
    const found = visit(node.id);
    if (found) return found;
  }
  return undefined;
}
