import { WeftError } from '@weft/contracts';
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
  'SPEC_CHECKS_BUSY',
] as const;
export type WorkflowErrorCode = (typeof WORKFLOW_ERROR_CODES)[number];

export class WorkflowError extends WeftError<WorkflowErrorCode> {}

/** A spec that does not pass validation; `diagnostics` are those of `weft validate`. */
export class InvalidSpecError extends WeftError<'INVALID_SPEC'> {
  constructor(
    message: string,
    readonly diagnostics: readonly Diagnostic[],
  ) {
    super('INVALID_SPEC', message);
  }
}
