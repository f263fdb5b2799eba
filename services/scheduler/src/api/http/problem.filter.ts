import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException } from '@nestjs/common';
import { PROBLEM_CONTENT_TYPE, toProblem } from './problem.util';

export interface ProblemLogger {
  error(msg: string, fields?: Record<string, unknown>): void;
}

/**
 * Every error as `application/problem+json`: the API's own, Nest's (unknown route,
 * malformed JSON) and body-parser's (413, 415). Installed app-wide, so outside /v1 an
 * HttpException keeps the body it was thrown with (a health probe's 503 report).
 */
@Catch()
export class ApiProblemFilter implements ExceptionFilter {
  constructor(private readonly log: ProblemLogger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<IncomingMessage>();
    const response = http.getResponse<ServerResponse>();
    const path = ((request as IncomingMessage & { originalUrl?: string }).originalUrl ?? request.url ?? '/').split('?')[0];
    if (response.headersSent) {
      // A stream (SSE) already under way: nothing left to say but goodbye.
      response.end();
      return;
    }
    if (exception instanceof HttpException && !isApiPath(path) && exception.getStatus() !== 404) {
      const body = exception.getResponse();
      reply(response, exception.getStatus(), 'application/json', typeof body === 'object' ? body : { statusCode: exception.getStatus(), message: body });
      return;
    }
    const problem = toProblem(exception, path);
    if (problem.status >= 500) this.log.error('request failed', { method: request.method, path, error: exception instanceof Error ? (exception.stack ?? exception.message) : String(exception) });
    reply(response, problem.status, PROBLEM_CONTENT_TYPE, problem);
  }
}

const isApiPath = (path: string): boolean => path === '/v1' || path.startsWith('/v1/') || path === '/openapi.json';

function reply(response: ServerResponse, status: number, contentType: string, body: unknown): void {
  const text = JSON.stringify(body);
  response.statusCode = status;
  response.setHeader('Content-Type', `${contentType}; charset=utf-8`);
  response.setHeader('Content-Length', Buffer.byteLength(text));
  response.end(text);
}
