import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException } from '@nestjs/common';
import { UnauthorizedError } from './auth/authenticator';
import { type ProblemDocument } from '@weft/contracts';
import { HttpGuardError } from './http-guard.error';

export { type ProblemDocument } from '@weft/contracts';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** The document for one status and code: `type` is `urn:weft:problem:<code in kebab case>`. */
export function problemDocument(status: number, code: string, detail: string, instance?: string): ProblemDocument {
  return {
    type: `urn:weft:problem:${code.toLowerCase().replace(/_/g, '-')}`,
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    ...(instance !== undefined && { instance }),
    code,
  };
}

/** A service's error class: a stable `code` per instance. */
export type CodedErrorClass<E extends Error & { readonly code: string }> = abstract new (...args: never[]) => E;

/** One entry of a service's problem table: an error class and the status of each of its codes. */
export interface ProblemRule {
  problemOf(error: unknown, instance?: string): ProblemDocument | undefined;
}

/**
 * `errorClass`'s errors as problems: `status` per code (a table that must name every code), one
 * status for the class, or read from the error (an ApiError carries its own); `members` adds
 * extension members such as validation `errors[]`.
 */
export function errorStatus<E extends Error & { readonly code: string }>(
  errorClass: CodedErrorClass<E>,
  status: number | Record<NoInfer<E['code']>, number> | ((error: E) => number),
  members?: (error: E) => Record<string, unknown> | undefined,
): ProblemRule {
  const statusOf = (error: E): number => (typeof status === 'number' ? status : typeof status === 'function' ? status(error) : (status as Record<string, number>)[error.code]);
  return {
    problemOf: (error, instance) => (error instanceof errorClass ? { ...problemDocument(statusOf(error), error.code, error.message, instance), ...members?.(error) } : undefined),
  };
}

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

export type ProblemMapper = (error: unknown, instance?: string) => ProblemDocument;

/**
 * The one mapping of any error to the problem a service answers with: the service's own errors
 * by its `rules` (first match), then Nest's (an unknown route is ROUTE_NOT_FOUND, JSON the body
 * parser could not read MALFORMED_JSON, others `HTTP_<status>`) and body-parser's (413, 415);
 * anything else 500 INTERNAL with `internalDetail`, never the error's own message.
 */
export function problemMapper(rules: readonly ProblemRule[], internalDetail: string): ProblemMapper {
  return (error, instance) => {
    for (const rule of rules) {
      const problem = rule.problemOf(error, instance);
      if (problem) return problem;
    }
    // The request guards' refusals (http-guards.ts), also when body-parser passes one on from its verify hook.
    if (error instanceof HttpGuardError) return problemDocument(error.status, error.code, error.message, instance);
    if (error instanceof HttpException) {
      const status = error.getStatus();
      if (status === 404) return problemDocument(404, 'ROUTE_NOT_FOUND', error.message, instance);
      if (status === 400 && /JSON/i.test(error.message)) return problemDocument(400, 'MALFORMED_JSON', `the body is not valid JSON: ${error.message}`, instance);
      return problemDocument(status, `HTTP_${status}`, error.message, instance);
    }
    if (isHttpError(error)) {
      if (error.status === 413) return problemDocument(413, 'PAYLOAD_TOO_LARGE', `the body is larger than this server accepts (${error.message})`, instance);
      if (error.status === 415) return problemDocument(415, 'UNSUPPORTED_MEDIA_TYPE', error.message, instance);
      return problemDocument(error.status, `HTTP_${error.status}`, error.message, instance);
    }
    return problemDocument(500, 'INTERNAL', internalDetail, instance);
  };
}

export interface ProblemLogger {
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** console.error with a `[prefix]`, for services that log server errors without a logger. */
export const consoleProblemLogger = (prefix: string): ProblemLogger => ({ error: (msg, fields) => console.error(`[${prefix}] ${msg}`, fields) });

export interface ProblemFilterOptions {
  /** The service's mapping of any error to its document; unknown errors are 500 with no detail leaked. */
  toProblem(error: unknown, instance: string): ProblemDocument;
  /** Where 5xx answers are logged (with the error's stack). */
  log: ProblemLogger;
  /**
   * Paths whose errors are problems. Elsewhere an HttpException other than 404 keeps the
   * body it was thrown with (a health probe's 503 report). @default every path
   */
  ownsPath?(path: string): boolean;
}

/** A controller's filter (`@UseFilters(problemFilter(...))`): its mapper, 5xx logged with a `[service]` prefix. */
export const problemFilter = (service: string, toProblem: ProblemMapper): ProblemDetailsFilter => new ProblemDetailsFilter({ toProblem, log: consoleProblemLogger(service) });

/** Every error as `application/problem+json`, its instance the path without the query. */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  constructor(private readonly options: ProblemFilterOptions) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<IncomingMessage>();
    const response = http.getResponse<ServerResponse>();
    // The query string is not part of the resource.
    const path = requestPath(request);
    if (response.headersSent) {
      // A stream (SSE) already under way: nothing left to say but goodbye.
      response.end();
      return;
    }
    const owned = this.options.ownsPath?.(path) ?? true;
    if (exception instanceof HttpException && !owned && exception.getStatus() !== 404) {
      const body = exception.getResponse();
      reply(response, exception.getStatus(), 'application/json', typeof body === 'object' ? body : { statusCode: exception.getStatus(), message: body });
      return;
    }
    // Every service's key check fails the same way.
    const problem = exception instanceof UnauthorizedError ? problemDocument(401, exception.code, exception.message, path) : this.options.toProblem(exception, path);
    if (problem.status >= 500) {
      this.options.log.error('request failed', { method: request.method, path, error: exception instanceof Error ? (exception.stack ?? exception.message) : String(exception) });
    }
    sendProblem(response, problem);
  }
}

/**
 * The request's path without its query: the problem's `instance`. Express's `originalUrl`,
 * since Nest strips a mount path from `request.url` in middleware.
 */
export function requestPath(request: IncomingMessage): string {
  return ((request as IncomingMessage & { originalUrl?: string }).originalUrl ?? request.url ?? '/').split('?')[0];
}

/** Answers with the problem document (its status, `application/problem+json`). */
export function sendProblem(response: ServerResponse, problem: ProblemDocument): void {
  reply(response, problem.status, PROBLEM_CONTENT_TYPE, problem);
}

function reply(response: ServerResponse, status: number, contentType: string, body: unknown): void {
  const text = JSON.stringify(body);
  response.statusCode = status;
  response.setHeader('Content-Type', `${contentType}; charset=utf-8`);
  response.setHeader('Content-Length', Buffer.byteLength(text));
  response.end(text);
}
