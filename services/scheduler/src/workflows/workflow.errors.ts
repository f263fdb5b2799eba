import type { Diagnostic } from '@weft/core';

/** Stable codes of what the workflow use cases refuse; the API maps each to an HTTP status. */
export const WORKFLOW_ERROR_CODES = [
  'WORKFLOW_NOT_FOUND',
  'WORKFLOW_EXISTS',
  'VERSION_NOT_FOUND',
  'NO_DRAFT',
  'NO_PUBLISHED_VERSION',
  'VERSION_ARCHIVED',
  'VERSION_PUBLISHED',
  'STALE_REVISION',
] as const;
export type WorkflowErrorCode = (typeof WORKFLOW_ERROR_CODES)[number];

export class WorkflowError extends Error {
  constructor(
    readonly code: WorkflowErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'WorkflowError';
  }
}

/** A spec that does not pass validation; `diagnostics` are those of `weft validate`. */
export class InvalidSpecError extends Error {
  readonly code = 'INVALID_SPEC';
  constructor(
    message: string,
    readonly diagnostics: readonly Diagnostic[],
  ) {
    super(message);
    this.name = 'InvalidSpecError';
  }
}
