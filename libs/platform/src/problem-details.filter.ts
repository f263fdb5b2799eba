import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException } from '@nestjs/common';
import { UnauthorizedError } from './auth/authenticator';

/** RFC 7807 problem details, with the error's stable `code` as an extension member. */
export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  code: string;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
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
export type CodedErrorClass<C extends string> = new (...args: never[]) => Error & { readonly code: C };

/**
 * The mapping most services need: their own errors by code, an HttpException as
 * `HTTP_<status>`, anything else 500 with `internalDetail` (never the error's message).
 */
export function codedErrorProblems<C extends string>(errorClass: CodedErrorClass<C>, status: Record<NoInfer<C>, number>, internalDetail: string): (error: unknown, instance?: string) => ProblemDocument {
  return (error, instance) => {
    if (error instanceof errorClass) return problemDocument(status[error.code], error.code, error.message, instance);
    if (error instanceof HttpException) return problemDocument(error.getStatus(), `HTTP_${error.getStatus()}`, error.message, instance);
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
