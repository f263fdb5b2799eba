import { WeftError, type WeftErrorOptions } from '@weft/contracts';
import type { FieldProblem } from '../api/http/api.errors';

/** Stable codes of signal and review errors, each with its HTTP status. */
export const WAIT_ERROR_STATUS = {
  /** No review with this id in the caller's namespace. */
  REVIEW_NOT_FOUND: 404,
  /** The review was decided before: the answer carries the earlier decision. */
  REVIEW_DECIDED: 409,
  /** The review's run ended (canceled, failed elsewhere): nothing to decide. */
  REVIEW_CLOSED: 409,
  /** `escalate` with no escalation tier left. */
  NO_ESCALATION_TIER: 409,
  /** A `correct` decision without a payload, or one that does not satisfy the review's form (errors[]). */
  INVALID_DECISION: 422,
  /** A cursor this API did not give out. */
  INVALID_CURSOR: 400,
  /** A signal over its bounds (data too large). */
  INVALID_SIGNAL: 422,
  /** No such open review or failed run in the caller's namespace (of that kind). */
  EXCEPTION_NOT_FOUND: 404,
  /** The item was resolved before. */
  EXCEPTION_RESOLVED: 409,
} as const;
export type WaitErrorCode = keyof typeof WAIT_ERROR_STATUS;

export class WaitError extends WeftError<WaitErrorCode> {
  readonly status: number;

  constructor(
    code: WaitErrorCode,
    message: string,
    /** Extra members of the problem document (e.g. `decision` for REVIEW_DECIDED, `errors` for INVALID_DECISION). */
    readonly details?: { errors?: FieldProblem[]; [key: string]: unknown },
    options?: WeftErrorOptions,
  ) {
    super(code, message, options);
    this.status = WAIT_ERROR_STATUS[code];
  }
}
