import { TERMINAL_STEP, type Tx, updateLast, withoutLease } from './run-tx.util';
import type { Command, TimerKind } from './events';
import { cancelItems } from './for-each.util';
import { PlanSteps } from './steps-record.util';
import type { AttemptRecord, Millis, PlannedReview, StepError, StepState, StepWait } from './types';

// How a step's attempt and the step itself end: completed, failed (onFailure), skipped, canceled.

export function completeStep(tx: Tx, step: StepState, output: unknown, decided?: StepState['review']): void {
  const { at } = tx;
  // withoutLease's copy is this step's own: written in place, the keys in the order a spread gives them.
  const done = withoutLease(step);
  done.status = 'completed';
  done.finishedAt = at;
  if (output !== undefined) done.output = output;
  else delete done.output;
  if (decided !== undefined) done.review = decided;
  tx.put(done);
  tx.emit({
    type: 'step.completed',
    at,
    stepId: step.id,
    attempt: step.attempt,
    status: 'completed',
    durationMs: at - (step.startedAt ?? step.queuedAt ?? at),
    data: decided !== undefined ? { output, review: decided } : { output },
  });
}

export type ReviewWait = Extract<StepWait, { kind: 'review' }>;
export type EventWait = Extract<StepWait, { kind: 'event' }>;

/** Drops a review's pending timers (except the one that fired). */
export function releaseReview(tx: Tx, step: StepState, wait: ReviewWait, review: PlannedReview | undefined, fired?: TimerKind): void {
  if (wait.deadlineAt !== undefined && fired !== 'review-deadline') tx.commands.push({ type: 'cancel-timer', timer: 'review-deadline', stepId: step.id });
  if (wait.tier < (review?.escalation.length ?? 0) && fired !== 'review-escalation') tx.commands.push({ type: 'cancel-timer', timer: 'review-escalation', stepId: step.id });
}

/** A waiting step ends without its wake-up (cancel, fail-fast, run timeout): drop what the shell holds for it. */
export function releaseWait(tx: Tx, step: StepState): void {
  const wait = step.wait;
  if (wait === undefined) return;
  switch (wait.kind) {
    case 'sleep':
      tx.commands.push({ type: 'cancel-timer', timer: 'sleep', stepId: step.id });
      return;
    case 'event':
      tx.commands.push({ type: 'cancel-timer', timer: 'wait-timeout', stepId: step.id }, { type: 'cancel-wait', stepId: step.id, token: step.token ?? '' });
      return;
    case 'review':
      releaseReview(tx, step, wait, tx.planned(step.id).review);
      tx.commands.push({ type: 'close-review', reviewId: wait.reviewId, outcome: 'canceled' });
      return;
    case 'slot':
      // Tx.put gives the place in the queue back when the step ends.
      return;
    case 'rate':
      // A permit reserved is spent either way (the limit only ever errs on the slow side).
      if (wait.until !== undefined) tx.commands.push({ type: 'cancel-timer', timer: 'rate-limit', stepId: step.id });
      return;
    case 'child':
      tx.commands.push({ type: 'cancel-child', stepId: step.id, childRunId: wait.childRunId, reason: `parent run ${tx.next.runId} canceled step ${step.id}` });
      return;
  }
}

/**
 * Closes the current attempt's record and drops its step-timeout timer (unless that is what
 * fired, or none was armed: `armed` defaults to "the attempt is running").
 */
export function endAttempt(
  tx: Tx,
  step: StepState,
  status: AttemptRecord['status'],
  error: StepError | undefined,
  fired: TimerKind | undefined,
  armed = step.status === 'running',
): StepState {
  if (armed && fired !== 'step-timeout') tx.commands.push({ type: 'cancel-timer', timer: 'step-timeout', stepId: step.id });
  // Field by field, not a conditional spread (V8's slow generic copy); the same keys in the same order.
  const attempts = updateLast(step.attempts, (a) => {
    const ended: AttemptRecord = { ...a, status, finishedAt: tx.at };
    if (error !== undefined) ended.error = error;
    return ended;
  });
  return { ...step, attempts };
}

/** The step failed for good: apply its onFailure. */
export function failStep(tx: Tx, step: StepState, error: StepError): void {
  const { at, next } = tx;
  tx.put({ ...withoutLease(step), status: 'failed', error, finishedAt: at });
  // Like step.completed: the duration of the last attempt (none when it never ran).
  const since = step.attempt > 0 ? (step.startedAt ?? step.queuedAt) : undefined;
  tx.emit({
    type: 'step.failed',
    at,
    stepId: step.id,
    attempt: step.attempt,
    status: 'failed',
    error,
    ...(since !== undefined && { durationMs: at - since }),
  });
  // An item's failure is its forEach step's to weigh (advanceForEach), not the run's.
  if (tx.planned(step.id).onFailure === 'fail-fast' && step.item === undefined) {
    next.error = { ...error, message: `step ${step.id} failed: ${error.message}` };
    cancelActive(tx, `step ${step.id} failed`);
  }
  // Under `continue`, drain() skips the dependents: a failed need can never complete.
}

/** Cancels every step that is not finished: in-flight attempts are aborted, pending timers dropped. */
export function cancelActive(tx: Tx, reason: string): void {
  const { at } = tx;
  // Every attempt of the run stops: one abort-run tells the executors, however many there are.
  const abort: Extract<Command, { type: 'abort-run' }> = { type: 'abort-run', reason, steps: [] };
  tx.runAbort = abort;
  try {
    // By plan position: each step read from the record's chunks, not looked up by id.
    const { plan } = tx.next;
    const steps = new PlanSteps(plan);
    for (let i = 0; i < plan.length; i++) {
      const step = steps.at(tx.next.steps, i);
      if (step !== undefined && !TERMINAL_STEP.has(step.status)) cancelStep(tx, step, reason, at);
    }
  } finally {
    tx.runAbort = undefined;
  }
  if (abort.steps.length > 0) tx.commands.push(abort);
}

function cancelStep(tx: Tx, step: StepState, reason: string, at: Millis): void {
  if (step.forEach !== undefined) cancelItems(tx, step.id, reason);
  let attempts = step.attempts;
  if (step.status === 'queued' || step.status === 'running') {
    // A forEach step runs nothing itself: its items were aborted above.
    if (step.forEach === undefined) tx.abort(step, reason);
    attempts = endAttempt(tx, step, 'canceled', undefined, undefined).attempts;
  } else if (step.status === 'retrying') {
    tx.commands.push({ type: 'cancel-timer', timer: 'retry', stepId: step.id });
  } else if (step.status === 'waiting') {
    releaseWait(tx, step);
    // A sleep or a wait for a signal is its attempt; a review holds an attempt that already ended.
    if (step.wait?.kind !== 'review' && step.wait?.kind !== 'slot' && step.wait?.kind !== 'rate') attempts = endAttempt(tx, step, 'canceled', undefined, undefined, false).attempts;
  }
  tx.put(untouchedShape(step) ? { id: step.id, status: 'canceled', attempt: step.attempt, attempts, lostLeases: step.lostLeases, attemptBase: step.attemptBase, reason, finishedAt: at } : { ...withoutLease(step), status: 'canceled', reason, finishedAt: at, attempts });
  tx.emit({ type: 'step.canceled', at, stepId: step.id, attempt: step.attempt, status: 'canceled', data: { reason } });
}

/**
 * A step with exactly the keys createRun gives it (id, status, attempt, attempts, lostLeases,
 * attemptBase): its cancel is built as an object literal, the same object the spread builds,
 * keys in the same order. A run's cancel meets many of different shapes, and a spread there
 * gives every object a map of its own (V8's megamorphic object clone): 50,000 such steps made
 * every later read of them slow (the store's row filter, ~2 us a step).
 */
function untouchedShape(step: StepState): boolean {
  return step.lostLeases !== undefined && step.attemptBase !== undefined && Object.keys(step).length === UNTOUCHED_SHAPE_KEYS;
}

const UNTOUCHED_SHAPE_KEYS = 6;

export function skipStep(tx: Tx, step: StepState, reason: string): void {
  tx.put({ ...withoutLease(step), status: 'skipped', reason, finishedAt: tx.at });
  tx.emit({ type: 'step.skipped', at: tx.at, stepId: step.id, status: 'skipped', data: { reason } });
}
