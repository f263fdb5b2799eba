import { Actor as ActorSchema, REVIEW_DECISIONS, SIGNAL_LIMITS, SignalName, SignalSend } from '@weft/contracts';
import { z } from 'zod';

/** Bodies, queries and responses of the signal and review routes (OpenAPI components by export name). */

const Time = z.string().describe('ISO 8601 time');
const Limit = z.string().regex(/^\d+$/).optional().describe('1-200, default 50.');
const Cursor = z.string().max(500).optional().describe('nextCursor of the previous page.');

export const SendSignalBody = SignalSend.strict();

export const ListSignalsQuery = z
  .object({
    name: SignalName.optional(),
    key: z.string().min(1).max(SIGNAL_LIMITS.keyLength).optional(),
    since: z.iso.datetime({ offset: true }).optional().describe('Received at or after this ISO 8601 time.'),
    limit: Limit,
    cursor: Cursor,
  })
  .strict();

export const Signal = z.object({
  id: z.string(),
  name: z.string(),
  key: z.string().nullable(),
  data: z.unknown(),
  receivedAt: Time,
});
export const SignalPage = z.object({ items: z.array(Signal), nextCursor: z.string().nullable() });

export const ReviewStatusValue = z.enum(['open', 'decided', 'canceled']);
export const ListReviewsQuery = z
  .object({
    status: ReviewStatusValue.optional(),
    workflow: z.string().min(1).max(200).optional(),
    assignee: z.string().min(1).max(200).optional(),
    limit: Limit,
    cursor: Cursor,
  })
  .strict();

export const DecisionBody = z
  .object({
    decision: z.enum(REVIEW_DECISIONS),
    payload: z.unknown().optional().describe('correct: the output that replaces the held one; it must satisfy the review form.'),
    comment: z.string().max(2_000).optional(),
  })
  .strict();

export const ReviewPath = z.object({ id: z.string().min(1).max(600) });

export const ReviewSummary = z.object({
  id: z.string(),
  status: ReviewStatusValue,
  workflow: z.string(),
  runId: z.string(),
  stepId: z.string(),
  attempt: z.number().int(),
  title: z.string(),
  assignees: z.array(z.string()),
  tier: z.number().int().describe('0 before any escalation.'),
  overdue: z.boolean().describe('Its deadline passed at the last escalation tier.'),
  kind: z.enum(['review', 'low-confidence']).describe('low-confidence: opened by the step\'s review.when rule.'),
  openedAt: Time,
  deadlineAt: Time.nullable(),
  decidedAt: Time.nullable(),
  decision: z.enum(REVIEW_DECISIONS).nullable(),
  actor: ActorSchema.nullable(),
  comment: z.string().nullable(),
});
export const Review = ReviewSummary.extend({
  instructions: z.string().nullable(),
  output: z.unknown().describe('The output under review.'),
  form: z.record(z.string(), z.unknown()).nullable().describe('JSON Schema a correction must satisfy.'),
  payload: z.unknown().describe('The correction, for a correct decision.'),
});
export const ReviewPage = z.object({ items: z.array(ReviewSummary), nextCursor: z.string().nullable() });
export const DecisionResult = z.object({ review: Review, runStatus: z.string() });

const ExceptionKindValue = z.enum(['review', 'low-confidence', 'blocked', 'failed', 'dead-letter']);
export const ListExceptionsQuery = z
  .object({
    kind: ExceptionKindValue.optional(),
    workflow: z.string().min(1).max(200).optional(),
    since: z.iso.datetime({ offset: true }).optional(),
    resolved: z.enum(['true', 'false']).optional().describe('true: resolved items too. @default false'),
    limit: Limit,
    cursor: Cursor,
  })
  .strict();
export const ExceptionPath = z.object({ kind: ExceptionKindValue, id: z.string().min(1).max(600) });
export const ResolveBody = z.object({ note: z.string().min(1).max(2_000) }).strict();
export const ExceptionItem = z.object({
  kind: ExceptionKindValue,
  id: z.string().describe('The review id; the run id for failed and stuck runs; queue:<name> for a queue with work and no live worker; outbox:<row id> or bus:<digest> for a dead letter.'),
  workflow: z.string(),
  runId: z.string(),
  stepId: z.string().nullable(),
  summary: z.string(),
  at: Time,
  resolved: z.object({ note: z.string(), actor: ActorSchema, at: Time }).nullable(),
});
export const ExceptionPage = z.object({ items: z.array(ExceptionItem), nextCursor: z.string().nullable() });
export const Resolved = z.object({ kind: ExceptionKindValue, id: z.string(), resolved: z.literal(true) });
export const BulkExceptionsBody = z
  .object({
    filter: z
      .object({ kind: ExceptionKindValue.optional(), workflow: z.string().min(1).max(200).optional(), since: z.iso.datetime({ offset: true }).optional() })
      .strict()
      .describe('The same filter as GET /v1/exceptions (open items only).'),
    action: z.enum(['retry', 'cancel', 'resolve']).describe('retry: failed runs are retried, stuck runs resumed; cancel: the item\'s run is canceled; resolve: each item is resolved with the note.'),
    note: z.string().min(1).max(2_000).optional().describe('Required for resolve.'),
  })
  .strict();
export const BulkExceptionsResult = z.object({
  matched: z.number().int().describe('Open items the filter matched (at most 1000 per call).'),
  done: z.number().int().describe('Items the action was applied to.'),
  skipped: z.number().int().describe('Items the action does not apply to (a review to retry) or that changed meanwhile.'),
  more: z.boolean().describe('More than 1000 items matched: call again.'),
});

export const ListAuditQuery = z
  .object({
    target: z.string().regex(/^[a-z][a-z-]*:.+$/, 'expected <kind>:<id>, e.g. review:<id>').max(700).optional().describe('<kind>:<id>, e.g. review:<id> or signal:<id>.'),
    actor: z.string().min(1).max(200).optional().describe('An API key id, or local.'),
    action: z.string().min(1).max(100).optional().describe('e.g. signal.sent, review.decided.'),
    since: z.iso.datetime({ offset: true }).optional(),
    limit: Limit,
    cursor: Cursor,
  })
  .strict();
export const AuditRecord = z.object({
  id: z.string(),
  at: Time,
  actor: ActorSchema,
  action: z.string(),
  target: z.object({ kind: z.string(), id: z.string() }),
  details: z.record(z.string(), z.unknown()),
});
export const AuditPage = z.object({ items: z.array(AuditRecord), nextCursor: z.string().nullable() });
