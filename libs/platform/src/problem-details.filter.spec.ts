import type { ArgumentsHost } from '@nestjs/common';
import { NotFoundException, ServiceUnavailableException } from '@nestjs/common';
import { errorStatus, ProblemDetailsFilter, type ProblemLogger, problemMapper } from './problem-details.filter';

class ShelfError extends Error {
  constructor(readonly code: 'BOOK_NOT_FOUND' | 'SHELF_FULL', message: string) {
    super(message);
  }
}

const toProblem = problemMapper([errorStatus(ShelfError, { BOOK_NOT_FOUND: 404, SHELF_FULL: 409 })], 'the shelf failed to answer');

interface Sent {
  status: number;
  headers: Record<string, unknown>;
  body: string;
}

function answer(filter: ProblemDetailsFilter, exception: unknown, url: string): Sent {
  const sent: Sent = { status: 0, headers: {}, body: '' };
  const response = {
    headersSent: false,
    set statusCode(status: number) {
      sent.status = status;
    },
    setHeader: (name: string, value: unknown) => (sent.headers[name] = value),
    end: (text?: string) => (sent.body = text ?? ''),
  };
  const host = { switchToHttp: () => ({ getRequest: () => ({ method: 'GET', url }), getResponse: () => response }) } as unknown as ArgumentsHost;
  filter.catch(exception, host);
  return sent;
}

describe('problem details', () => {
  it('maps a service\'s coded errors, HttpExceptions and unknown errors without leaking the latter', () => {
    expect(toProblem(new ShelfError('SHELF_FULL', 'no room'), '/v1/shelf')).toEqual({
      type: 'urn:weft:problem:shelf-full',
      title: 'Conflict',
      status: 409,
      detail: 'no room',
      instance: '/v1/shelf',
      code: 'SHELF_FULL',
    });
    expect(toProblem(new ServiceUnavailableException('down'))).toEqual({ type: 'urn:weft:problem:http-503', title: 'Service Unavailable', status: 503, detail: 'down', code: 'HTTP_503' });
    expect(toProblem(new Error('secret'))).toMatchObject({ status: 500, code: 'INTERNAL', detail: 'the shelf failed to answer' });
  });

  it('answers application/problem+json with the path as instance and logs server errors', () => {
    const logged: unknown[] = [];
    const log: ProblemLogger = { error: (msg, fields) => logged.push({ msg, ...fields }) };
    const filter = new ProblemDetailsFilter({ toProblem, log });
    const notFound = answer(filter, new ShelfError('BOOK_NOT_FOUND', 'no book b1'), '/v1/books/b1?x=1');
    expect(notFound.status).toBe(404);
    expect(notFound.headers['Content-Type']).toBe('application/problem+json; charset=utf-8');
    expect(JSON.parse(notFound.body)).toMatchObject({ code: 'BOOK_NOT_FOUND', instance: '/v1/books/b1' });
    expect(logged).toEqual([]);
    expect(answer(filter, new Error('boom'), '/v1/books').status).toBe(500);
    expect(logged).toEqual([expect.objectContaining({ msg: 'request failed', method: 'GET', path: '/v1/books', error: expect.stringContaining('boom') })]);
  });

  it('leaves HttpExceptions other than 404 outside the paths it owns as thrown', () => {
    const filter = new ProblemDetailsFilter({ toProblem, log: { error: () => undefined }, ownsPath: (path) => path.startsWith('/v1/') });
    const health = answer(filter, new ServiceUnavailableException({ status: 'unavailable' }), '/health/ready');
    expect(health.status).toBe(503);
    expect(health.headers['Content-Type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(health.body)).toEqual({ status: 'unavailable' });
    // Nest's 404 for a route nobody serves is a problem everywhere (one mapper for every service).
    expect(JSON.parse(answer(filter, new NotFoundException('Cannot GET /x'), '/x').body)).toMatchObject({ status: 404, code: 'ROUTE_NOT_FOUND' });
  });
});
