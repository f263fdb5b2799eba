import { WeftError } from '@weft/contracts';
import { downstreamOf } from '../dag';
import type { WorkflowSpec } from '../workflow-spec/spec.schema';
import { planRun } from './plan.util';
import type { RunState } from './types';

/** A rerun that cannot be built: `from` is not a step of the workflow it would run. */
export class RerunError extends WeftError<'RERUN_UNKNOWN_STEP'> {
  constructor(message: string) {
    super('RERUN_UNKNOWN_STEP', message);
  }
}

export interface RerunPlan {
  /** Steps that keep the previous run's output (pass as `createRun({ reuse: { runId, steps } })`). */
  reuse: Record<string, { output?: unknown }>;
  /** Steps that run again, in plan order. */
  rerun: string[];
}

/**
 * Which steps of `spec` a rerun of `previous` from step `from` reuses: every step that is
 * neither `from` nor downstream of it (in `spec`, which may be a newer version), that
 * completed in `previous`, and whose needs are all reused too, so a reused step never
 * sits on top of one that runs again. Without `from`, nothing is reused.
 */
export function rerunPlan(spec: WorkflowSpec, previous: RunState, from?: string): RerunPlan {
  const plan = planRun(spec);
  if (from !== undefined && !plan.some((p) => p.id === from)) {
    throw new RerunError(`step "${from}" is not in workflow ${spec.name}; steps are: ${plan.map((p) => p.id).join(', ')}`);
  }
  const again = new Set(from === undefined ? plan.map((p) => p.id) : [from, ...downstreamOf(spec.steps, from)]);
  const reuse = Object.create(null) as Record<string, { output?: unknown }>;
  const rerun: string[] = [];
  // Plan order is topological: a step's needs are decided before it.
  for (const p of plan) {
    const old = Object.hasOwn(previous.steps, p.id) ? previous.steps[p.id] : undefined;
    const keep = !again.has(p.id) && old?.status === 'completed' && p.needs.every((need) => Object.hasOwn(reuse, need));
    if (!keep) {
      rerun.push(p.id);
      continue;
    }
    const kept: { output?: unknown } = {};
    if (old.output !== undefined) kept.output = old.output;
    // A step named __proto__ is an identifier too: keep it an own key.
    Object.defineProperty(reuse, p.id, { value: kept, enumerable: true, writable: true, configurable: true });
  }
  return { reuse, rerun };
}
