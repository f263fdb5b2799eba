import type { Actor } from '@weft/contracts';
import type { StepState } from './types';

/**
 * What a waiting step waits for, as the API (`GET /v1/runs/{id}`), SSE snapshots and
 * `weft run --json` show it: times ISO 8601, absent values null.
 */
export type StepWaitView =
  | { kind: 'sleep'; until: string }
  | { kind: 'event'; event: string; key: string | null; expiresAt: string }
  | { kind: 'review'; reviewId: string; tier: number; assignees: string[]; deadlineAt: string | null; overdue: boolean }
  | { kind: 'slot'; key: string; limit: number }
  | { kind: 'rate'; key: string; until: string | null }
  | { kind: 'child'; childRunId: string; workflow: string };

/** The last review decision on a step (continue, correct or reject), with who made it and when. */
export interface ReviewDecisionView {
  reviewId: string;
  decision: string;
  actor: Actor;
  at: string;
  comment: string | null;
}

const iso = (ms: number): string => new Date(ms).toISOString();

export function waitView(wait: NonNullable<StepState['wait']>): StepWaitView {
  switch (wait.kind) {
    case 'sleep':
      return { kind: 'sleep', until: iso(wait.until) };
    case 'event':
      return { kind: 'event', event: wait.name, key: wait.key ?? null, expiresAt: iso(wait.expiresAt) };
    case 'review':
      return { kind: 'review', reviewId: wait.reviewId, tier: wait.tier, assignees: wait.assignees, deadlineAt: wait.deadlineAt === undefined ? null : iso(wait.deadlineAt), overdue: wait.overdue === true };
    case 'slot':
      return { kind: 'slot', key: wait.key, limit: wait.limit };
    case 'rate':
      return { kind: 'rate', key: wait.key, until: wait.until === undefined ? null : iso(wait.until) };
    case 'child':
      return { kind: 'child', childRunId: wait.childRunId, workflow: wait.workflow };
  }
}

export function reviewDecisionView(review: NonNullable<StepState['review']>): ReviewDecisionView {
  return { reviewId: review.reviewId, decision: review.decision, actor: review.actor, at: iso(review.at), comment: review.comment ?? null };
}
