import { type Tx, withoutLease } from './run-tx.util';
import { ENGINE_ERROR_CODES, expressionFailure } from './engine-errors.util';
import { endAttempt, failStep, releaseWait } from './step-end.util';
import { renderValue } from '../expr';
import { itemInput, itemParent } from './for-each.util';
import { requestRatePermit } from './rate-limit.util';
import type { PlannedStep, StepError, StepState, StepWait } from './types';

// A step's flow control: its concurrency slot and its rate-limit permit (see rate-limit.util for the GCRA).

/**
 * A step with `concurrency: { limit, key }` waits for a slot of its key before each attempt it
 * is not holding one for; the shell grants slots across runs (slot.granted). The key is rendered
 * now (an item sees `item` and `index`).
 */
export function requestSlot(tx: Tx, step: StepState, planned: PlannedStep, slot: NonNullable<PlannedStep['slot']>): void {
  const key = renderKey(tx, step, planned, slot.key, 'concurrency.key');
  if (key === undefined) return;
  const token = `${tx.next.runId}:${step.id}:slot:${step.attempt + 1}`;
  const scope = `${tx.next.workflow}/${itemParent(step.id) ?? step.id}`;
  const wait: StepWait = { kind: 'slot', scope, key, limit: slot.limit, priority: slot.priority };
  tx.put({ ...withoutLease(step), status: 'waiting', token, queuedAt: tx.at, wait });
  tx.commands.push({ type: 'acquire-slot', stepId: step.id, token, scope, key, limit: slot.limit, priority: slot.priority, ...(slot.strategy !== undefined && { strategy: slot.strategy }) });
  tx.emit({ type: 'step.waiting', at: tx.at, stepId: step.id, attempt: step.attempt, status: 'waiting', data: { wait: 'slot', key, limit: slot.limit } });
}

/** A strategy took the step's slot (or its place in the queue): stop what it runs and fail it, never retried. */
export function slotRevoked(tx: Tx, step: StepState, reason: string): void {
  const error: StepError = { code: ENGINE_ERROR_CODES.concurrencyCanceled, message: `step ${step.id}: ${reason}`, retryable: false };
  if (step.status === 'queued' || step.status === 'running') {
    tx.commands.push({ type: 'abort-step', stepId: step.id, attempt: step.attempt, token: step.token ?? '', reason });
    failStep(tx, endAttempt(tx, step, 'canceled', error, undefined), error);
    return;
  }
  if (step.status === 'retrying') tx.commands.push({ type: 'cancel-timer', timer: 'retry', stepId: step.id });
  if (step.status === 'waiting') releaseWait(tx, step);
  failStep(tx, step, error);
}

/** A concurrency or rate-limit key rendered for the step (an item sees `item` and `index`); undefined: the step failed. */
function renderKey(tx: Tx, step: StepState, planned: PlannedStep, template: string, field: string): string | undefined {
  try {
    const rendered = step.item === undefined ? renderValue(template, tx.scope()) : itemInput({ ...planned, action: 'noop', with: { key: template } }, step.item, tx.scope())['key'];
    return typeof rendered === 'string' ? rendered : JSON.stringify(rendered ?? null);
  } catch (error) {
    failStep(tx, step, expressionFailure(error, `${field} of step ${step.id}`));
    return undefined;
  }
}

/** A step with `rateLimit` waits for a permit of its key before each attempt starts (after its slot, when it has one). */
export function requestRate(tx: Tx, step: StepState, planned: PlannedStep, limit: NonNullable<PlannedStep['rateLimit']>): void {
  const key = renderKey(tx, step, planned, limit.key, 'rateLimit.key');
  if (key !== undefined) requestRatePermit(tx, withoutLease(step), limit, key);
}
