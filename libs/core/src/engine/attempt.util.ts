import { isRecord, isWaitAction, type Tx, updateLast, withoutLease } from './run-tx.util';
import { ENGINE_ERROR_CODES, expressionFailure } from './engine-errors.util';
import { completeStep, endAttempt, failStep } from './step-end.util';
import { outputReady } from './review-gate.util';
import { startWait } from './wait-step.util';
import { requestRate, requestSlot } from './step-slot.util';
import { evaluateExpression, ExpressionError, type ExprScope, hasTemplate, renderValue, unwrapExpression } from '../expr';
import type { LifecycleEventDraft, TimerKind } from './events';
import { retryDelay } from './retry-delay.util';
import { type ForEachOps, itemInput, startForEach } from './for-each.util';
import { needsRatePermit } from './rate-limit.util';
import type { AttemptRecord, PlannedStep, StepError, StepState } from './types';

// Dispatching a step's attempts to executors: start, result, retry, lost leases and re-sent dispatches.

/** Lost leases re-dispatched per step (outside the retry budget) before it fails with WORKER_LOST. */
export const MAX_LOST_LEASES = 3;

/**
 * The attempt is running from `at`. `armTimeout` false: it also ends in this decision (a
 * result for a queued attempt), so no step-timeout timer is scheduled only to be dropped.
 */
export function stepStarted(tx: Tx, step: StepState, workerId: string | undefined, armTimeout: boolean): StepState {
  const { at } = tx;
  const planned = tx.planned(step.id);
  // Written field by field, not with a conditional spread (`...(cond && {...})` takes V8's slow
  // generic copy): the same keys in the same order (an assigned key that exists keeps its place).
  const attempts = updateLast(step.attempts, (a) => {
    const started: AttemptRecord = { ...a, status: 'running', startedAt: at };
    if (workerId !== undefined) started.workerId = workerId;
    return started;
  });
  const running: StepState = { ...step, status: 'running', startedAt: at, leaseExpiresAt: Math.max(step.leaseExpiresAt ?? 0, at + tx.leaseMs), attempts };
  tx.put(running);
  if (armTimeout) tx.commands.push({ type: 'schedule-timer', timer: 'step-timeout', stepId: step.id, attempt: step.attempt, fireAt: at + planned.timeoutMs });
  const event: LifecycleEventDraft = { type: 'step.started', at, stepId: step.id, attempt: step.attempt, status: 'running' };
  if (workerId !== undefined) event.data = { workerId };
  tx.emit(event);
  return running;
}

/**
 * A result proves its attempt started. One for an attempt still `queued` (no started
 * heartbeat applied: a short step's executor sends none, or it is still on its way) starts
 * it now, at the result's database time, like the started heartbeat and result the
 * store's linger merges into one transaction: startedAt == finishedAt, durationMs 0, and
 * readers see step.started before the outcome as always. `armed`: whether a step-timeout
 * timer is pending for the attempt (it is not when the attempt starts here).
 */
export function startedIfQueued(tx: Tx, step: StepState, workerId: string | undefined): { ran: StepState; armed: boolean } {
  if (step.status !== 'queued') return { ran: step, armed: step.status === 'running' };
  return { ran: stepStarted(tx, step, workerId, false), armed: false };
}

export function stepCompleted(tx: Tx, step: StepState, output: unknown, armed: boolean): Tx {
  outputReady(tx, endAttempt(tx, step, 'completed', undefined, undefined, armed), output);
  return tx;
}

/** An attempt failed (worker error or timeout): retry it if the policy allows, else fail the step. */
export function attemptFailed(tx: Tx, step: StepState, error: StepError, fired: TimerKind | undefined, armed = step.status === 'running'): void {
  const { at, next } = tx;
  const planned = tx.planned(step.id);
  const ended = endAttempt(tx, step, 'failed', error, fired, armed);
  const used = budgetUsed(step);
  const retry = error.retryable !== false && !planned.retry.nonRetryable.includes(error.code) && used < planned.retry.maxAttempts;
  if (!retry) {
    failStep(tx, ended, error);
    return;
  }
  const delayMs = retryDelay(planned.retry, used, `${next.runId}:${step.id}:${step.attempt}`);
  tx.put({ ...withoutLease(ended), status: 'retrying', error, nextAttemptAt: at + delayMs });
  tx.commands.push({ type: 'schedule-timer', timer: 'retry', stepId: step.id, attempt: step.attempt, fireAt: at + delayMs });
  emitRetrying(tx, step, error, { delayMs, nextAttempt: step.attempt + 1 });
}

/** `step.retrying` for the attempt that just ended: when the next one goes out, and why. */
function emitRetrying(tx: Tx, step: StepState, error: StepError, data: Record<string, unknown>): void {
  tx.emit({ type: 'step.retrying', at: tx.at, stepId: step.id, attempt: step.attempt, status: 'retrying', error, data });
}

/** Attempts since the last run.retry that count against the retry budget. */
function budgetUsed(step: StepState): number {
  return step.attempt - (step.attemptBase ?? 0) - (step.lostLeases ?? 0);
}

/** The transitions forEach drives (see for-each.util). */
export const FOR_EACH_OPS: ForEachOps = {
  dispatch: (tx, step) => dispatch(tx as Tx, step),
  completeStep: (tx, step, output) => completeStep(tx as Tx, step, output),
  failStep: (tx, step, error) => failStep(tx as Tx, step, error),
};

/** Longest wait between re-sends of a dispatch nobody takes: the lease times 2^6. */
const MAX_RESEND_BACKOFF = 6;

/**
 * A dispatch nobody took within its lease. The broker may have lost it, or the
 * queue is just long (or has no executor yet): send the same attempt again, waiting
 * twice as long each time so a backlog does not fill up with copies. The step keeps
 * waiting; a queue without executors is an operator's alert, not a step failure.
 */
export function resendDispatch(tx: Tx, step: StepState): Tx {
  const planned = tx.planned(step.id);
  let input: Record<string, unknown>;
  try {
    input = step.item === undefined ? stepInput(planned, () => tx.scope()) : itemInput(planned, step.item, tx.scope());
  } catch (error) {
    failStep(tx, step, expressionFailure(error, `input of step ${step.id}`));
    return tx;
  }
  const resend = (step.resent ?? 0) + 1;
  tx.put({ ...step, resent: resend, leaseExpiresAt: tx.at + tx.leaseMs * 2 ** Math.min(resend, MAX_RESEND_BACKOFF) });
  tx.commands.push({
    type: 'dispatch',
    stepId: step.id,
    attempt: step.attempt,
    token: step.token ?? '',
    action: planned.action,
    input,
    queue: planned.queue,
    timeoutMs: planned.timeoutMs,
    resend,
  });
  return tx;
}

/** The worker went silent: dispatch a fresh attempt outside the retry budget, a few times at most. */
export function leaseExpired(tx: Tx, step: StepState): Tx {
  const lost = step.lostLeases ?? 0;
  const message = `no word from attempt ${step.attempt} for ${tx.leaseMs}ms; worker presumed lost`;
  tx.commands.push({ type: 'abort-step', stepId: step.id, attempt: step.attempt, token: step.token ?? '', reason: 'lease expired' });
  if (lost >= MAX_LOST_LEASES) {
    const error: StepError = { code: ENGINE_ERROR_CODES.workerLost, message: `${message} (${lost} leases lost before)`, retryable: false };
    failStep(tx, endAttempt(tx, step, 'failed', error, undefined), error);
    return tx;
  }
  const error: StepError = { code: ENGINE_ERROR_CODES.workerLost, message, retryable: true };
  const ended = endAttempt(tx, step, 'failed', error, undefined);
  emitRetrying(tx, step, error, { delayMs: 0, nextAttempt: step.attempt + 1, lostLeases: lost + 1 });
  dispatch(tx, { ...ended, lostLeases: lost + 1 });
  return tx;
}

/** Dispatches the next attempt of a step (pending, retrying, or re-dispatched after a lost lease). */
export function dispatch(tx: Tx, step: StepState): void {
  const { at, next } = tx;
  const planned = tx.planned(step.id);
  if (planned.forEach !== undefined && step.item === undefined) {
    startForEach(tx, step, planned, FOR_EACH_OPS, (error) => expressionFailure(error, `forEach of step ${step.id}`));
    return;
  }
  let input: Record<string, unknown>;
  try {
    input = step.item === undefined ? stepInput(planned, () => tx.scope()) : itemInput(planned, step.item, tx.scope());
  } catch (error) {
    failStep(tx, step, expressionFailure(error, `input of step ${step.id}`));
    return;
  }
  const waits = isWaitAction(planned.action);
  if (!waits && planned.slot !== undefined && step.slot === undefined) {
    requestSlot(tx, step, planned, planned.slot);
    return;
  }
  if (needsRatePermit(planned.rateLimit, step)) {
    requestRate(tx, step, planned, planned.rateLimit);
    return;
  }
  if (waits) {
    startWait(tx, step, planned, input);
    return;
  }
  const attempt = step.attempt + 1;
  const token = `${next.runId}:${step.id}:${attempt}`;
  const queued: StepState = {
    id: step.id,
    status: 'queued',
    attempt,
    token,
    queuedAt: at,
    leaseExpiresAt: at + tx.leaseMs,
    attempts: [...step.attempts, { attempt, status: 'queued', dispatchedAt: at }],
    lostLeases: step.lostLeases ?? 0,
    attemptBase: step.attemptBase ?? 0,
  };
  if (step.item !== undefined) queued.item = step.item;
  if (step.slot !== undefined) queued.slot = step.slot;
  tx.put(queued);
  tx.commands.push({ type: 'dispatch', stepId: step.id, attempt, token, action: planned.action, input, queue: planned.queue, timeoutMs: planned.timeoutMs });
  tx.emit({ type: 'step.queued', at, stepId: step.id, attempt, status: 'queued', data: { queue: planned.queue, action: planned.action } });
}

/** `with` rendered; for `transform`, `{ value }` where value is `with.expr` evaluated. The API's step-input view calls it too. */
export function stepInput(planned: PlannedStep, scope: () => ExprScope): Record<string, unknown> {
  if (planned.action === 'transform') {
    const expr = planned.with['expr'];
    if (typeof expr !== 'string') throw new ExpressionError(String(expr), 'a transform step needs `with.expr`, a CEL expression');
    return { value: evaluateExpression(unwrapExpression(expr), scope()) };
  }
  if (!containsTemplate(planned.with)) return planned.with;
  const rendered = renderValue(planned.with, scope());
  return isRecord(rendered) ? rendered : {};
}

function containsTemplate(value: unknown): boolean {
  if (typeof value === 'string') return hasTemplate(value);
  if (Array.isArray(value)) return value.some(containsTemplate);
  if (isRecord(value)) return Object.values(value).some(containsTemplate);
  return false;
}
