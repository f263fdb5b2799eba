import type { Diagnostic } from '@weft/core';
import { type ProblemDocument as BaseProblemDocument, errorStatus, problemMapper } from '@weft/platform';
import { InvalidSpecError, WorkflowError, type WorkflowErrorCode } from '../../workflows';
import { RunRejectedError } from '../../usecases/create-run.usecase';
import { ApiError, type FieldProblem } from './api.errors';
import { WaitError } from '../../usecases/wait.errors';

/** RFC 7807 problem details, with the error's stable `code` and, for validation, `errors[]`. */
export interface ProblemDocument extends BaseProblemDocument {
  errors?: FieldProblem[];
}

const WORKFLOW_STATUS = {
  WORKFLOW_NOT_FOUND: 404,
  VERSION_NOT_FOUND: 404,
  WORKFLOW_EXISTS: 409,
  NO_DRAFT: 409,
  NO_PUBLISHED_VERSION: 409,
  VERSION_ARCHIVED: 409,
  VERSION_PUBLISHED: 409,
  STALE_REVISION: 412,
  SPEC_CHECKS_BUSY: 503,
} satisfies Record<WorkflowErrorCode, number>;

export const diagnosticProblem = (d: Diagnostic): FieldProblem => ({
  path: d.path,
  message: d.message,
  code: d.code,
  ...(d.line > 0 && { line: d.line, col: d.col }),
  ...(d.hint !== undefined && { hint: d.hint }),
});

/** Any error, as the problem document the API answers with. Unknown errors are 500 with no detail leaked. */
export const toProblem: (error: unknown, instance?: string) => ProblemDocument = problemMapper(
  [
    errorStatus(ApiError, (error) => error.status, (error) => (error.errors !== undefined ? { errors: error.errors } : undefined)),
    errorStatus(InvalidSpecError, 422, (error) => ({ errors: error.diagnostics.map(diagnosticProblem) })),
    errorStatus(WorkflowError, WORKFLOW_STATUS),
    errorStatus(RunRejectedError, 422),
    errorStatus(WaitError, (error) => error.status, (error) => error.details),
  ],
  'the server failed to answer; see its logs',
);
