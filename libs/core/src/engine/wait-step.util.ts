import { expressionScope, iso, ownStep, type Tx, WAIT_ACTIONS, withoutLease } from './run-tx.util';
import { ENGINE_ERROR_CODES } from './engine-errors.util';
import { endAttempt, type EventWait, failStep } from './step-end.util';
import { outputReady } from './review-gate.util';
import { evaluateCondition } from '../expr';
import type { ReceivedSignal } from '@weft/contracts';
import { eventWait, sleepWait, WaitInputError } from './wait-input.util';
import { ChildInputError, childRunId, childWait } from './child-run.util';
import { bindScope, boundExpression } from '../workflow-spec/bound-expression.util';
import type { PlannedStep, RunState, StepState, StepWait } from './types';

// Steps the core runs itself as durable waits: sleep, wait.event (signals) and workflow (child runs).

/** The step starts waiting (a sleep or a signal) instead of being dispatched: no executor is involved. */
export function startWait(tx: Tx, step: StepState, planned: PlannedStep, input: Record<string, unknown>): void {
  const { at, next } = tx;
  const attempt = step.attempt + 1;
  const token = `${next.runId}:${step.id}:${attempt}`;
  const depth = (next.depth ?? 0) + 1;
  if (planned.action === WAIT_ACTIONS.workflow && depth > tx.maxRunDepth) {
    const message = `step ${step.id}: a child run would be at depth ${depth}, deeper than the limit of ${tx.maxRunDepth} (WEFT_MAX_RUN_DEPTH)`;
    failStep(tx, step, { code: ENGINE_ERROR_CODES.runDepthExceeded, message, retryable: false });
    return;
  }
  let wait: StepWait;
  try {
    if (planned.action === WAIT_ACTIONS.workflow) wait = childWait(input, childRunId(token));
    else wait = planned.action === WAIT_ACTIONS.sleep ? sleepWait(input, at) : eventWait(input, at);
  } catch (error) {
    if (!(error instanceof WaitInputError) && !(error instanceof ChildInputError)) throw error;
    failStep(tx, step, { code: ENGINE_ERROR_CODES.invalidWait, message: `step ${step.id}: ${error.message}`, retryable: false });
    return;
  }
  tx.put({
    id: step.id,
    status: 'waiting',
    attempt,
    token,
    queuedAt: at,
    startedAt: at,
    attempts: [...step.attempts, { attempt, status: 'running', dispatchedAt: at, startedAt: at }],
    lostLeases: step.lostLeases ?? 0,
    attemptBase: step.attemptBase ?? 0,
    wait,
  });
  if (wait.kind === 'sleep') {
    tx.commands.push({ type: 'schedule-timer', timer: 'sleep', stepId: step.id, attempt, fireAt: wait.until });
    tx.emit({ type: 'step.waiting', at, stepId: step.id, attempt, status: 'waiting', data: { wait: 'sleep', until: iso(wait.until) } });
    return;
  }
  if (wait.kind === 'child') {
    const { childRunId: child, workflow, version, inputs } = wait;
    tx.commands.push({ type: 'start-child', stepId: step.id, attempt, token, childRunId: child, workflow, ...(version !== undefined && { version }), inputs, depth });
    tx.emit({ type: 'step.waiting', at, stepId: step.id, attempt, status: 'waiting', data: { wait: 'child', childRunId: child, workflow, ...(version !== undefined && { version }) } });
    return;
  }
  if (wait.kind !== 'event') return;
  tx.commands.push(
    { type: 'register-wait', stepId: step.id, attempt, token, name: wait.name, ...(wait.key !== undefined && { key: wait.key }), since: wait.since, expiresAt: wait.expiresAt },
    { type: 'schedule-timer', timer: 'wait-timeout', stepId: step.id, attempt, fireAt: wait.expiresAt },
  );
  tx.emit({
    type: 'step.waiting',
    at,
    stepId: step.id,
    attempt,
    status: 'waiting',
    data: { wait: 'event', event: wait.name, ...(wait.key !== undefined && { key: wait.key }), since: iso(wait.since), expiresAt: iso(wait.expiresAt) },
  });
}

/** What a satisfied wait outputs and what its `match` sees as `event`. */
export function signalView(signal: ReceivedSignal): Record<string, unknown> {
  return { id: signal.id, name: signal.name, ...(signal.key !== undefined && { key: signal.key }), data: signal.data ?? null, receivedAt: iso(signal.receivedAt) };
}

/**
 * Whether a stored signal satisfies the step's wait: its name, its key (when the wait has one),
 * received in [since, expiresAt), and `match` true. The shell asks this before handing a signal to
 * `decide` (which asks it again). A `match` that cannot be evaluated for this signal (a missing
 * field, a wrong type) is not satisfied: the wait goes on for a signal it can read.
 */
export function signalSatisfies(state: RunState, stepId: string, signal: ReceivedSignal): boolean {
  const wait = ownStep(state.steps, stepId)?.wait;
  if (wait?.kind !== 'event' || signal.name !== wait.name) return false;
  if (wait.key !== undefined && signal.key !== wait.key) return false;
  if (signal.receivedAt < wait.since || signal.receivedAt >= wait.expiresAt) return false;
  if (wait.match === undefined) return true;
  try {
    return evaluateCondition(boundExpression('event', wait.match), bindScope(expressionScope(state), signalView(signal)));
  } catch {
    return false;
  }
}

export function signalReceived(tx: Tx, step: StepState, wait: EventWait, signal: ReceivedSignal): void {
  tx.commands.push({ type: 'cancel-timer', timer: 'wait-timeout', stepId: step.id }, { type: 'cancel-wait', stepId: step.id, token: step.token ?? '' });
  const ended = endAttempt(tx, { ...step, wait }, 'completed', undefined, undefined, false);
  outputReady(tx, withoutLease(ended), signalView(signal));
}
