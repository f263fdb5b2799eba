import { isRecord, Tx, type TxLimits } from './run-tx.util';
import { ENGINE_ERROR_CODES, expressionFailure } from './engine-errors.util';
import { failStep, skipStep } from './step-end.util';
import { dispatch } from './attempt.util';
import { firstHeld } from './dispatch-window.util';
import { evaluateCondition, type ExprScope, renderValue } from '../expr';
import { checkPayload } from '@weft/contracts';
import type { WorkflowSpec } from '../workflow-spec/spec.schema';
import { runTimeoutMs } from './plan.util';
import { PlanSteps } from './steps-record.util';
import { childFailure } from './child-run.util';
import { needsRunSlot, releaseRunSlot, requestRunSlot } from './run-slot.util';
import type { Millis, RunState, StepError, StepState } from './types';

// A run's own life: start, run.retry, readiness of steps (drain), waiting, and its end.

export function startRun(tx: Tx, data?: Record<string, unknown>): Tx {
  const { next, at } = tx;
  next.status = 'running';
  // A retried run admitted again keeps its first start.
  next.startedAt ??= at;
  armRunTimeout(tx);
  tx.emit({ type: 'run.started', at, status: 'running', ...(data !== undefined && { data }) });
  for (const p of next.plan) tx.check(p.id);
  return tx;
}

function armRunTimeout(tx: Tx): void {
  const timeoutMs = runTimeoutMs(tx.next.spec);
  if (timeoutMs === undefined) return;
  tx.next.deadlineAt = tx.at + timeoutMs;
  tx.commands.push({ type: 'schedule-timer', timer: 'run-timeout', fireAt: tx.next.deadlineAt });
}

/**
 * `run.retry`: failed, canceled and skipped steps go back to pending with fresh
 * budgets; completed steps keep their outputs. Attempt numbers keep counting so
 * tokens (and broker message ids) of the new attempts never collide with old ones.
 */
export function retryRun(state: RunState, at: Millis, limits: TxLimits, reason: string | undefined): Tx | undefined {
  if (state.status !== 'failed' && state.status !== 'partially_completed' && state.status !== 'canceled') return undefined;
  const tx = new Tx(state, at, limits);
  const { next } = tx;
  const steps = new PlanSteps(next.plan);
  for (let i = 0; i < next.plan.length; i++) {
    const step = steps.at(next.steps, i);
    if (!step || step.status === 'completed') continue;
    tx.put({ id: step.id, status: 'pending', attempt: step.attempt, attempts: step.attempts, lostLeases: 0, attemptBase: step.attempt });
    tx.check(step.id);
  }
  delete next.finishedAt;
  delete next.error;
  delete next.outputs;
  delete next.deadlineAt;
  if (needsRunSlot(next)) {
    // Over again under the workflow's limit: queued for a slot, started when granted.
    requestRunSlot(tx, true);
    return tx;
  }
  next.status = 'running';
  next.startedAt ??= at;
  armRunTimeout(tx);
  tx.emit({ type: 'run.started', at, status: 'running', data: { retry: true, ...(reason !== undefined && { reason }) } });
  return tx;
}

/**
 * Checks steps whose needs may have settled: skips the blocked, evaluates `if`s and dispatches
 * the ready, as far as the run's dispatch window takes them (dispatch-window.util). Once a step
 * is held, the ready ones wait behind it and the refill dispatches them in plan order as earlier
 * ones finish. Skips and failures queue their own dependents.
 */
export function drain(tx: Tx): void {
  const queue = tx.toCheck;
  let checked = 0;
  for (;;) {
    for (; checked < queue.length; checked++) {
      if (tx.next.status !== 'running') return;
      checkStep(tx, queue[checked] ?? '', false);
    }
    if (tx.next.status !== 'running' || !refill(tx)) return;
  }
}

/**
 * Dispatches held steps in plan order while the window has room: those held in this decision,
 * and any from `heldFrom` on (each checked again: a need may have gone back to pending). What
 * it dispatches depends only on which steps are held, never on how tight `heldFrom` is. True
 * when that queued steps to check (a skip).
 */
function refill(tx: Tx): boolean {
  const { plan } = tx.next;
  const now = heldInOrder(tx);
  if (!tx.hasRoom()) {
    tx.heldFrom = Math.min(tx.heldFrom, now[0] ?? plan.length);
    return false;
  }
  const queued = tx.toCheck.length;
  let scan = tx.heldFrom;
  let k = 0;
  tx.heldFrom = plan.length;
  while (tx.next.status === 'running') {
    const position = Math.min(scan, now[k] ?? plan.length);
    if (position >= plan.length) break;
    if (!tx.hasRoom()) {
      // Exact when nothing is held after all (see WindowLoad.heldFrom): look on for one.
      tx.heldFrom = k < now.length ? position : firstHeld(tx.next, position);
      break;
    }
    if (position === scan) scan++;
    if (position === now[k]) k++;
    checkStep(tx, plan[position].id, true);
  }
  return tx.toCheck.length > queued;
}

const NONE_HELD: readonly number[] = [];

/** Takes this decision's held positions, ascending, each once (tx.heldNow starts over); nothing allocated when none is held. */
function heldInOrder(tx: Tx): readonly number[] {
  const held = tx.heldNow;
  if (held.length === 0) return NONE_HELD;
  tx.heldNow = [];
  if (held.length === 1) return held;
  held.sort((a, b) => a - b);
  let kept = 1;
  for (let i = 1; i < held.length; i++) if (held[i] !== held[kept - 1]) held[kept++] = held[i];
  held.length = kept;
  return held;
}

/**
 * One pending step whose needs may have settled. Its `if` is evaluated once, when it is ready;
 * a step the window holds has passed it. `admitted`: the refill has room for this held step.
 */
function checkStep(tx: Tx, id: string, admitted: boolean): void {
  const step = tx.step(id);
  if (step?.status !== 'pending') return;
  const planned = tx.planned(id);
  let waiting = false;
  let blocked: string | undefined;
  if (!tx.mayBlock()) {
    // No step of the run failed, was skipped or canceled: only an unfinished need matters. From the
    // last need: a fan-in's needs finish roughly in plan order (O(1) per check, not O(needs)).
    const { needs } = planned;
    for (let n = needs.length - 1; n >= 0 && !waiting; n--) {
      const status = tx.step(needs[n])?.status;
      waiting = status !== 'completed' && status !== 'partially_completed';
    }
    if (waiting) return;
  }
  for (const need of planned.needs) {
    const status = tx.step(need)?.status;
    if (status === 'completed' || status === 'partially_completed') continue;
    // A step with its own `if` decides for itself whether a skipped need matters
    // (a join after an if/else); without one, a skipped need skips it too.
    if (status === 'skipped' && planned.if !== undefined) continue;
    if (status === 'failed' || status === 'skipped' || status === 'canceled') {
      blocked = `upstream ${status}: ${need}`;
      break;
    }
    waiting = true;
  }
  if (blocked !== undefined) {
    skipStep(tx, step, blocked);
    return;
  }
  if (waiting) return;
  if (admitted) {
    dispatch(tx, step);
    return;
  }
  if (planned.if !== undefined) {
    let go: boolean;
    try {
      go = evaluateCondition(planned.if, tx.scope());
    } catch (error) {
      failStep(tx, step, expressionFailure(error, `if of step ${id}`));
      return;
    }
    if (!go) {
      skipStep(tx, step, 'condition is false');
      return;
    }
  }
  if (tx.mayDispatchNow()) dispatch(tx, step);
  else tx.hold(id);
}

/** Ends the run once every step is terminal. */
export function finishIfDone(tx: Tx, maxPayloadBytes: number): void {
  const { next } = tx;
  if (next.status !== 'running' || tx.active() > 0) return;
  let completed = 0;
  const failed: StepState[] = [];
  const steps = new PlanSteps(next.plan);
  for (let i = 0; i < next.plan.length; i++) {
    const step = steps.at(next.steps, i);
    if (step?.status === 'completed') completed++;
    else if (step?.status === 'failed') failed.push(step);
    else if (step?.status === 'partially_completed') {
      // Some of its items failed: the run completes only partially, as under onFailure continue.
      completed++;
      failed.push(step);
    }
  }
  if (next.error !== undefined) {
    finishRun(tx, 'failed', next.error, false);
    return;
  }
  const firstFailed = failed[0];
  if (firstFailed !== undefined && completed === 0) {
    finishRun(tx, 'failed', stepsFailedError(failed, firstFailed), false);
    return;
  }
  let outputs: Record<string, unknown> | undefined;
  try {
    outputs = renderOutputs(next.spec, () => tx.scope());
  } catch (error) {
    const cause = expressionFailure(error, 'outputs');
    finishRun(tx, 'failed', { ...cause, code: ENGINE_ERROR_CODES.output }, false);
    return;
  }
  const unfit = outputs === undefined ? undefined : checkPayload(outputs, maxPayloadBytes);
  if (unfit !== undefined) {
    // Stored and published with the run: what PostgreSQL or the broker would refuse fails it instead.
    finishRun(tx, 'failed', { code: unfit.code, message: `outputs: ${unfit.message}`, retryable: false }, false);
    return;
  }
  if (outputs !== undefined) next.outputs = outputs;
  if (firstFailed === undefined) finishRun(tx, 'completed', undefined, false);
  else finishRun(tx, 'partially_completed', stepsFailedError(failed, firstFailed), false);
}

/**
 * A run is `waiting` when nothing of it is in flight (queued, running, retrying) and some step
 * waits; it is `running` again as soon as anything is dispatched. Only plans with waits pay the
 * scan, and only when nothing is in flight (counted by delta, Tx.executing): a decision of a big
 * run with a wait somewhere walked the plan up to its first step in flight, O(steps) per event.
 */
export function settleWaiting(tx: Tx, wasWaiting: boolean): void {
  const { next } = tx;
  if (next.status !== 'running' || !tx.mayWait() || tx.executing() > 0) return;
  const waiting: string[] = [];
  const steps = new PlanSteps(next.plan);
  for (let i = 0; i < next.plan.length; i++) {
    const status = steps.at(next.steps, i)?.status;
    if (status === 'queued' || status === 'running' || status === 'retrying') return;
    if (status === 'waiting') waiting.push(next.plan[i].id);
  }
  if (waiting.length === 0) return;
  next.status = 'waiting';
  if (!wasWaiting) tx.emit({ type: 'run.waiting', at: tx.at, status: 'waiting', data: { steps: waiting } });
}

function stepsFailedError(failed: readonly StepState[], first: StepState): StepError {
  const cause = first.error ? ` (${first.id}: ${first.error.code} ${first.error.message})` : '';
  return { code: ENGINE_ERROR_CODES.stepsFailed, message: `${failed.length} step(s) failed: ${failed.map((s) => s.id).join(', ')}${cause}`, retryable: false };
}

/** The scope (every finished step: 48 ms at 50,000 steps) is built only for a workflow that has outputs. */
function renderOutputs(spec: WorkflowSpec, scope: () => ExprScope): Record<string, unknown> | undefined {
  if (spec.outputs === undefined) return undefined;
  const rendered = renderValue(spec.outputs, scope());
  return isRecord(rendered) ? rendered : {};
}

const RUN_EVENT = {
  completed: 'run.completed',
  partially_completed: 'run.partially_completed',
  failed: 'run.failed',
  canceled: 'run.canceled',
} as const;

export function finishRun(tx: Tx, status: keyof typeof RUN_EVENT, error: StepError | undefined, runTimeoutFired: boolean): void {
  const { next, at } = tx;
  next.status = status;
  next.finishedAt = at;
  if (error !== undefined) next.error = error;
  if (next.deadlineAt !== undefined && !runTimeoutFired) tx.commands.push({ type: 'cancel-timer', timer: 'run-timeout' });
  releaseRunSlot(tx);
  tx.emit({
    type: RUN_EVENT[status],
    at,
    status,
    durationMs: at - (next.startedAt ?? next.createdAt),
    ...(error !== undefined && { error }),
    ...(next.outputs !== undefined && { data: { outputs: next.outputs } }),
  });
  if (next.parent !== undefined) {
    // A child's end is its parent step's result; a failure says which child and why.
    const failure = status === 'completed' ? undefined : childFailure(next.runId, next.workflow, status, error);
    tx.commands.push({ type: 'notify-parent', parent: next.parent, status, ...(next.outputs !== undefined && { outputs: next.outputs }), ...(failure !== undefined && { error: failure }) });
  }
}
