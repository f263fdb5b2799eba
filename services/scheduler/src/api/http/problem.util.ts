import { HttpException } from '@nestjs/common';
import type { Diagnostic } from '@weft/core';
import { type ProblemDocument as BaseProblemDocument, problemDocument } from '@weft/platform';
import { InvalidSpecError, WorkflowError, type WorkflowErrorCode } from '../../workflows';
import { RunRejectedError } from '../../usecases/create-run.usecase';
import { ApiError, type FieldProblem } from './api.errors';

/** RFC 7807 problem details, with the error's stable `code` and, for validation, `errors[]`. */
export interface ProblemDocument extends BaseProblemDocument {
  errors?: FieldProblem[];
}

const WORKFLOW_STATUS: Record<WorkflowErrorCode, number> = {
  WORKFLOW_NOT_FOUND: 404,
  VERSION_NOT_FOUND: 404,
  WORKFLOW_EXISTS: 409,
  NO_DRAFT: 409,
  NO_PUBLISHED_VERSION: 409,
  VERSION_ARCHIVED: 409,
  VERSION_PUBLISHED: 409,
  STALE_REVISION: 412,
};

export const diagnosticProblem = (d: Diagnostic): FieldProblem => ({
  path: d.path,
  message: d.message,
  code: d.code,
  ...(d.line > 0 && { line: d.line, col: d.col }),
  ...(d.hint !== undefined && { hint: d.hint }),
});

/** Errors body-parser raises (http-errors): a status and a `type` such as `entity.too.large`. */
interface HttpError {
  status: number;
  type: string;
  message: string;
  expose: boolean;
}

function isHttpError(error: unknown): error is HttpError {
  const e = error as Partial<HttpError> | null;
  return typeof e === 'object' && e !== null && typeof e.status === 'number' && typeof e.type === 'string' && e.expose === true;
}

/** Any error, as the problem document the API answers with. Unknown errors are 500 with no detail leaked. */
export function toProblem(error: unknown, instance?: string): ProblemDocument {
  const problem = (status: number, code: string, detail: string, errors?: FieldProblem[]): ProblemDocument => ({
    ...problemDocument(status, code, detail, instance),
    ...(errors !== undefined && { errors }),
  });
  if (error instanceof ApiError) return problem(error.status, error.code, error.message, error.errors);
  if (error instanceof InvalidSpecError) return problem(422, error.code, error.message, error.diagnostics.map(diagnosticProblem));
  if (error instanceof WorkflowError) return problem(WORKFLOW_STATUS[error.code], error.code, error.message);
  if (error instanceof RunRejectedError) return problem(422, error.code, error.message);
  if (error instanceof HttpException) {
    const status = error.getStatus();
    // Nest's own: a route it does not know, or JSON body-parser could not read.
    if (status === 404) return problem(404, 'ROUTE_NOT_FOUND', error.message);
    if (status === 400 && /JSON/i.test(error.message)) return problem(400, 'MALFORMED_JSON', `the body is not valid JSON: ${error.message}`);
    return problem(status, `HTTP_${status}`, error.message);
  }
  if (isHttpError(error)) {
    if (error.status === 413) return problem(413, 'PAYLOAD_TOO_LARGE', `the body is larger than this server accepts (${error.message})`);
    if (error.status === 415) return problem(415, 'UNSUPPORTED_MEDIA_TYPE', error.message);
    return problem(error.status, `HTTP_${error.status}`, error.message);
  }
  return problem(500, 'INTERNAL', 'the server failed to answer; see its logs');
}
