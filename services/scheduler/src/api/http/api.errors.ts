import { WeftError, type WeftErrorOptions } from '@weft/contracts';

/** One field-level problem, as `errors[]` of a problem document. */
export interface FieldProblem {
  /** Where: `steps[2].needs[0]` for specs, `inputs.count` for inputs, `body.mode` for requests. */
  path: string;
  message: string;
  /** Stable, machine-readable (a diagnostic code for specs). */
  code?: string;
  /** 1-based position in the YAML/JSON text, when the spec came as text. */
  line?: number;
  col?: number;
  hint?: string;
}

/** Stable codes of the API's own errors; each has one HTTP status. */
export const API_ERROR_STATUS = {
  FORBIDDEN: 403,
  RUN_NOT_FOUND: 404,
  KEY_NOT_FOUND: 404,
  TEMPLATE_NOT_FOUND: 404,
  /** A run has no such step, or it is not a forEach step (GET /v1/runs/{id}/steps/{stepId}/items). */
  STEP_NOT_FOUND: 404,
  INVALID_REQUEST: 400,
  UNSUPPORTED_MEDIA_TYPE: 415,
  INVALID_INPUTS: 422,
  RUN_REJECTED: 422,
  RUN_NOT_FINISHED: 409,
  RUN_FINISHED: 409,
  RUN_NOT_RESUMABLE: 409,
  RUN_NOT_RETRYABLE: 409,
  RERUN_NOT_POSSIBLE: 409,
} as const;
export type ApiErrorCode = keyof typeof API_ERROR_STATUS;

/** An error the API answers with its own status and code (and field problems for 400/422). */
export class ApiError extends WeftError<ApiErrorCode> {
  readonly status: number;

  constructor(
    code: ApiErrorCode,
    message: string,
    readonly errors?: FieldProblem[],
    options?: WeftErrorOptions,
  ) {
    super(code, message, options);
    this.status = API_ERROR_STATUS[code];
  }
}
