import type { Actor, ReviewDecision } from '@weft/contracts';

/** A signal as the API shows it (`POST /v1/signals`, `GET /v1/signals`). Times are ISO 8601. */
export interface Signal {
  id: string;
  name: string;
  key: string | null;
  data: unknown;
  receivedAt: string;
}

export interface SignalRequest {
  name: string;
  /** Only waits with this key (or none) take it. */
  key?: string;
  data?: unknown;
  /** A repeated id is the same signal (the first is answered). */
  id?: string;
}

export interface SignalListQuery {
  name?: string;
  key?: string;
  /** ISO 8601: received at or after. */
  since?: string;
  limit?: number;
  cursor?: string;
}

export interface ReviewSummary {
  id: string;
  status: 'open' | 'decided' | 'canceled';
  workflow: string;
  runId: string;
  stepId: string;
  attempt: number;
  title: string;
  assignees: string[];
  tier: number;
  overdue: boolean;
  /** low-confidence: opened by the step's review.when rule. */
  kind: 'review' | 'low-confidence';
  openedAt: string;
  deadlineAt: string | null;
  decidedAt: string | null;
  decision: ReviewDecision | null;
  actor: Actor | null;
  comment: string | null;
}

export interface Review extends ReviewSummary {
  instructions: string | null;
  /** The output under review. */
  output: unknown;
  /** JSON Schema a correction must satisfy. */
  form: Record<string, unknown> | null;
  payload: unknown;
}

export interface ReviewListQuery {
  status?: 'open' | 'decided' | 'canceled';
  workflow?: string;
  assignee?: string;
  limit?: number;
  cursor?: string;
}

export interface DecisionRequest {
  decision: ReviewDecision;
  /** correct: replaces the output; must satisfy the review's form (else WeftApiError 422 with errors[]). */
  payload?: unknown;
  comment?: string;
}

export type ExceptionKind = 'review' | 'low-confidence' | 'blocked' | 'failed' | 'dead-letter';

/** One item of the exception queue (`GET /v1/exceptions`). */
export interface ExceptionItem {
  kind: ExceptionKind;
  /** The review id, or the run id for `failed`. */
  id: string;
  workflow: string;
  runId: string;
  stepId: string | null;
  summary: string;
  at: string;
  resolved: { note: string; actor: Actor; at: string } | null;
}

export interface ExceptionQuery {
  kind?: ExceptionKind;
  workflow?: string;
  since?: string;
  /** Include resolved items. */
  resolved?: boolean;
  limit?: number;
  cursor?: string;
}

/** `POST /v1/exceptions/bulk`: the filter of `GET /v1/exceptions` (open items only). */
export interface ExceptionFilter {
  kind?: ExceptionKind;
  workflow?: string;
  since?: string;
}

/** What a bulk action did: at most 1000 items a call (`more`: call again). */
export interface BulkExceptionsResult {
  matched: number;
  done: number;
  skipped: number;
  more: boolean;
}

/** One audit record (`GET /v1/audit`): who changed what, when. */
export interface AuditRecord {
  id: string;
  at: string;
  actor: Actor;
  /** signal.sent, review.decided. */
  action: string;
  target: { kind: string; id: string };
  details: Record<string, unknown>;
}

export interface AuditQuery {
  /** `<kind>:<id>`, e.g. `review:<id>`. */
  target?: string;
  /** An API key id, or `local`. */
  actor?: string;
  action?: string;
  since?: string;
  limit?: number;
  cursor?: string;
}

export interface DecisionResult {
  review: Review;
  runStatus: string;
}
