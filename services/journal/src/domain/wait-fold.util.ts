import { Actor } from '@weft/contracts';
import type { JournalEntry, ReviewHistory, StepHistory } from './journal.types';

// A step's waits and reviews folded from its step.waiting / review.requested / review.decided
// events: what it waited for, who was asked, who escalated, who decided what (run-fold.util.ts).

/** step.waiting: one wait of the step. */
export function foldWait(step: StepHistory, entry: JournalEntry): void {
  const data = entry.data ?? {};
  (step.waits ??= []).push({
    attempt: entry.attempt,
    at: entry.at,
    wait: stringOf(data['wait']) ?? 'event',
    until: stringOf(data['until']),
    event: stringOf(data['event']),
    key: stringOf(data['key']),
  });
}

/** review.requested: a review opened, or escalated (by a person or a timer), or marked overdue. */
export function foldReviewRequested(step: StepHistory, entry: JournalEntry): void {
  const data = entry.data ?? {};
  const reviewId = stringOf(data['reviewId']);
  if (reviewId === null) return;
  const assignees = stringsOf(data['assignees']);
  const review = step.reviews?.find((r) => r.reviewId === reviewId);
  if (review === undefined || (data['escalated'] !== true && data['overdue'] !== true)) {
    if (review === undefined) (step.reviews ??= []).push(opened(reviewId, entry, assignees));
    return;
  }
  review.assignees = assignees;
  review.escalations.push({
    at: entry.at,
    tier: typeof data['tier'] === 'number' ? data['tier'] : review.escalations.length + 1,
    assignees,
    overdue: data['overdue'] === true,
    actor: actorOf(data['actor']),
    comment: stringOf(data['comment']),
  });
}

/** review.decided: the decision and who made it. */
export function foldReviewDecided(step: StepHistory, entry: JournalEntry): void {
  const data = entry.data ?? {};
  const reviewId = stringOf(data['reviewId']);
  if (reviewId === null) return;
  let review = step.reviews?.find((r) => r.reviewId === reviewId);
  if (review === undefined) {
    // Its request was pruned: the decision alone.
    review = { ...opened(reviewId, entry, []), requestedAt: null };
    (step.reviews ??= []).push(review);
  }
  review.decision = stringOf(data['decision']);
  review.actor = actorOf(data['actor']);
  review.comment = stringOf(data['comment']);
  review.decidedAt = entry.at;
}

function opened(reviewId: string, entry: JournalEntry, assignees: string[]): ReviewHistory {
  return { reviewId, attempt: entry.attempt, requestedAt: entry.at, title: stringOf(entry.data?.['title']), assignees, escalations: [], decision: null, actor: null, comment: null, decidedAt: null };
}

const actorOf = (value: unknown): Actor | null => {
  const actor = Actor.safeParse(value);
  return actor.success ? actor.data : null;
};
const stringOf = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const stringsOf = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);
