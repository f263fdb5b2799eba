import { iso, type Tx, withoutLease } from './run-tx.util';
import { ENGINE_ERROR_CODES } from './engine-errors.util';
import { completeStep, failStep, releaseReview, type ReviewWait } from './step-end.util';
import { type Actor, actorLabel, type ReviewDecision } from '@weft/contracts';
import type { TimerKind } from './events';
import type { PlannedReview, StepState } from './types';

// Decisions on an open review (a reviewer's, or its deadline's) and escalation tiers.

interface DecisionInput {
  decision: ReviewDecision;
  payload?: unknown;
  comment?: string;
  actor: Actor;
  decisionId?: string;
}

/** A decision on an open review (escalate without a further tier and correct without a payload were refused before). */
export function applyDecision(tx: Tx, step: StepState, wait: ReviewWait, review: PlannedReview, input: DecisionInput, fired?: TimerKind): void {
  const { decision, actor, comment, decisionId } = input;
  if (decision === 'escalate') {
    escalate(tx, step, wait, review, { actor, ...(comment !== undefined && { comment }), ...(decisionId !== undefined && { decisionId }) });
    return;
  }
  releaseReview(tx, step, wait, review, fired);
  tx.commands.push({
    type: 'close-review',
    reviewId: wait.reviewId,
    outcome: 'decided',
    decision,
    actor,
    ...(comment !== undefined && { comment }),
    ...(decision === 'correct' && { payload: input.payload }),
    ...(decisionId !== undefined && { decisionId }),
  });
  const record: NonNullable<StepState['review']> = {
    reviewId: wait.reviewId,
    decision,
    actor,
    at: tx.at,
    ...(comment !== undefined && { comment }),
    ...(decisionId !== undefined && { decisionId }),
  };
  tx.emit({ type: 'review.decided', at: tx.at, stepId: step.id, attempt: step.attempt, status: 'waiting', data: { ...record, at: iso(tx.at) } });
  switch (decision) {
    case 'continue':
      completeStep(tx, step, wait.output, record);
      return;
    case 'correct':
      completeStep(tx, step, input.payload, record);
      return;
    case 'retry':
      // A new attempt with a fresh retry budget: asking again is the reviewer's call, not a failure.
      // Pending again and through the run's dispatch window, as any step that goes to an executor.
      tx.put({ ...withoutLease(step), status: 'pending', attemptBase: step.attempt });
      tx.hold(step.id);
      return;
    case 'reject': {
      const message = `rejected by ${actorLabel(actor)}${comment !== undefined ? `: ${comment}` : ''}`;
      failStep(tx, { ...step, review: record }, { code: ENGINE_ERROR_CODES.rejected, message, retryable: false });
      return;
    }
  }
}

/** The next escalation tier (or, with none left after a deadline, the review marked overdue). */
export function escalate(tx: Tx, step: StepState, wait: ReviewWait, review: PlannedReview, by: { actor?: Actor; comment?: string; decisionId?: string }, fromDeadline = false): void {
  const tierSpec = review.escalation[wait.tier];
  const next: ReviewWait = tierSpec === undefined ? { ...wait, overdue: true } : { ...wait, tier: wait.tier + 1, assignees: tierSpec.assignees };
  if (fromDeadline) delete next.deadlineAt;
  tx.put({ ...step, wait: next });
  tx.commands.push({
    type: 'escalate-review',
    reviewId: wait.reviewId,
    tier: next.tier,
    assignees: next.assignees,
    ...(next.overdue === true && { overdue: true }),
    ...(by.decisionId !== undefined && { decisionId: by.decisionId }),
  });
  if (tierSpec !== undefined) {
    const following = review.escalation[next.tier];
    if (following !== undefined) tx.commands.push({ type: 'schedule-timer', timer: 'review-escalation', stepId: step.id, attempt: step.attempt, fireAt: wait.openedAt + following.afterMs });
    else tx.commands.push({ type: 'cancel-timer', timer: 'review-escalation', stepId: step.id });
  }
  tx.emit({
    type: 'review.requested',
    at: tx.at,
    stepId: step.id,
    attempt: step.attempt,
    status: 'waiting',
    data: {
      reviewId: wait.reviewId,
      tier: next.tier,
      assignees: next.assignees,
      escalated: tierSpec !== undefined,
      ...(next.overdue === true && { overdue: true }),
      ...(by.actor !== undefined && { actor: by.actor }),
      ...(by.comment !== undefined && { comment: by.comment }),
    },
  });
}
