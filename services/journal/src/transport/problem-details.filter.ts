import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException } from '@nestjs/common';
import { JournalError, type JournalErrorCode } from '../domain/journal.errors';

/** RFC 7807 problem details, with the error's stable `code` as an extension member. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  code: string;
}

const STATUS: Record<JournalErrorCode, number> = {
  RUN_NOT_FOUND: 404,
  CHECKPOINT_NOT_FOUND: 404,
  INVALID_QUERY: 400,
  INVALID_EVENT: 422,
  STORE_CLOSED: 503,
};

const TITLE: Record<number, string> = { 400: 'Bad Request', 404: 'Not Found', 422: 'Unprocessable Content', 500: 'Internal Server Error', 503: 'Service Unavailable' };

export function toProblem(error: unknown, instance?: string): ProblemDetails {
  let status = 500;
  let code = 'INTERNAL';
  let detail = 'the journal failed to answer; see its logs';
  if (error instanceof JournalError) {
    status = STATUS[error.code];
    code = error.code;
    detail = error.message;
  } else if (error instanceof HttpException) {
    status = error.getStatus();
    code = `HTTP_${status}`;
    detail = error.message;
  }
  return {
    type: `urn:weft:problem:${code.toLowerCase().replace(/_/g, '-')}`,
    title: TITLE[status] ?? 'Error',
    status,
    detail,
    ...(instance !== undefined && { instance }),
    code,
  };
}

/** Every error of the journal's controllers as `application/problem+json`. */
@Catch()
export class JournalProblemFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<IncomingMessage>();
    const response = http.getResponse<ServerResponse>();
    // The path alone, as the scheduler's API does: the query string is not part of the resource.
    const path = ((request as IncomingMessage & { originalUrl?: string }).originalUrl ?? request.url ?? '/').split('?')[0];
    const problem = toProblem(exception, path);
    if (problem.status >= 500) console.error('[journal] request failed', path, exception);
    response.statusCode = problem.status;
    response.setHeader('Content-Type', 'application/problem+json');
    response.end(JSON.stringify(problem));
  }
}
