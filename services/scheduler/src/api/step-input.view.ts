import { expressionScope, type RunState, stepInput } from '@weft/core';
import type { StepInputView } from './api.schemas';
import { ApiError } from './http/api.errors';

const NOT_DISPATCHED = new Set(['pending', 'skipped']);

/**
 * A step's input, evaluated again from the run as it is: `with:` rendered (for `transform`,
 * `{ value }` with `with.expr` evaluated) in the run's expression scope. The validator lets a
 * step's expressions read only the steps it needs, which had finished when it was dispatched
 * and do not change after, so this is the input its attempts were given. None for a step not
 * dispatched (yet), a forEach step (each item has its own), or one reused by a re-run.
 */
export function stepInputView(state: RunState, stepId: string): StepInputView {
  const planned = state.plan.find((p) => p.id === stepId);
  if (!planned) throw new ApiError('STEP_NOT_FOUND', `run ${state.runId} has no step ${stepId}`);
  const step = Object.hasOwn(state.steps, stepId) ? state.steps[stepId] : undefined;
  const view = { runId: state.runId, stepId, action: planned.action, with: planned.with };
  const none = (reason: string): StepInputView => ({ ...view, input: null, reason });
  if (step?.reusedFrom !== undefined) return none(`reused from run ${step.reusedFrom}: not run here`);
  if (!step || NOT_DISPATCHED.has(step.status) || (step.status === 'canceled' && step.attempt === 0)) return none(step?.status === 'skipped' ? 'skipped: never dispatched' : 'not dispatched yet: evaluated when its needs are done');
  if (planned.forEach !== undefined) return none('forEach: each item is dispatched with its own input');
  try {
    // The engine's own rendering, as at dispatch.
    return { ...view, input: stepInput(planned, () => expressionScope(state)), reason: null };
  } catch (error) {
    return none(`its input could not be evaluated: ${error instanceof Error ? error.message : String(error)}`);
  }
}
