import { iso, type Tx, withoutLease } from './run-tx.util';
import { expressionFailure } from './engine-errors.util';
import { completeStep, failStep, type ReviewWait } from './step-end.util';
import { evaluateCondition } from '../expr';
import { bindScope, boundExpression, renderBoundTemplate } from '../workflow-spec/bound-expression.util';
import type { PlannedReview, StepState } from './types';

// A step's output passes its review gate (`review.when`) or is held in a review for a decision.

/** The attempt produced `output`: the step completes, unless its review gate holds the output first. */
export function outputReady(tx: Tx, step: StepState, output: unknown): void {
  const review = tx.planned(step.id).review;
  if (review !== undefined) {
    let held: boolean;
    try {
      held = review.when === undefined || evaluateCondition(boundExpression('output', review.when), bindScope(tx.scope(), output));
    } catch (error) {
      failStep(tx, step, expressionFailure(error, `review.when of step ${step.id}`));
      return;
    }
    if (held) {
      openReview(tx, step, review, output);
      return;
    }
  }
  completeStep(tx, step, output);
}

/** Holds the output for a decision: the review's rows, deadline and first escalation are the shell's to store. */
function openReview(tx: Tx, step: StepState, review: PlannedReview, output: unknown): void {
  const { at } = tx;
  const reviewId = step.token ?? `${tx.next.runId}:${step.id}:${step.attempt}`;
  let title: string;
  let instructions: string | undefined;
  try {
    const scope = bindScope(tx.scope(), output);
    title = review.title === undefined ? `Review step ${step.id}` : renderBoundTemplate('output', review.title, scope);
    if (review.instructions !== undefined) instructions = renderBoundTemplate('output', review.instructions, scope);
  } catch (error) {
    failStep(tx, step, expressionFailure(error, `review of step ${step.id}`));
    return;
  }
  const wait: ReviewWait = { kind: 'review', reviewId, output, openedAt: at, tier: 0, assignees: review.assignees, byRule: review.when !== undefined };
  if (review.deadlineMs !== undefined) wait.deadlineAt = at + review.deadlineMs;
  tx.put({ ...withoutLease(step), status: 'waiting', wait });
  tx.commands.push({
    type: 'open-review',
    reviewId,
    stepId: step.id,
    attempt: step.attempt,
    title,
    ...(instructions !== undefined && { instructions }),
    assignees: review.assignees,
    ...(review.form !== undefined && { form: review.form }),
    output,
    ...(wait.deadlineAt !== undefined && { deadlineAt: wait.deadlineAt }),
    byRule: wait.byRule,
  });
  if (wait.deadlineAt !== undefined) tx.commands.push({ type: 'schedule-timer', timer: 'review-deadline', stepId: step.id, attempt: step.attempt, fireAt: wait.deadlineAt });
  const first = review.escalation[0];
  if (first !== undefined) tx.commands.push({ type: 'schedule-timer', timer: 'review-escalation', stepId: step.id, attempt: step.attempt, fireAt: at + first.afterMs });
  tx.emit({
    type: 'review.requested',
    at,
    stepId: step.id,
    attempt: step.attempt,
    status: 'waiting',
    data: { reviewId, title, assignees: review.assignees, byRule: wait.byRule, ...(wait.deadlineAt !== undefined && { deadlineAt: iso(wait.deadlineAt) }) },
  });
}
