import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import { ApiError, type FieldProblem } from './api.errors';

/** Writes a JSON reply. Controllers answer through this: their status codes depend on the outcome. */
export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.statusCode = status;
  for (const [name, value] of Object.entries(headers)) response.setHeader(name, value);
  response.setHeader('Content-Type', 'application/json; charset=utf-8');
  response.setHeader('Content-Length', Buffer.byteLength(text));
  response.end(text);
}

/** A listing's answer: the page's items, each through `view`, and the next page's cursor. */
export function sendPage<T>(response: ServerResponse, page: { items: readonly T[]; nextCursor: string | null }, view: (item: T) => unknown): void {
  sendJson(response, 200, { items: page.items.map((item) => view(item)), nextCursor: page.nextCursor });
}

/** Only the fields a query gave: a listing's filter leaves out what its query left out. */
export function given<T extends object>(fields: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}

export function sendEmpty(response: ServerResponse, status: number): void {
  response.statusCode = status;
  response.end();
}

/** Validates a body, query or path against its route schema; 400 with one `errors[]` item per issue. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, where: 'body' | 'query' | 'path'): z.output<S> {
  const result = schema.safeParse(value ?? (where === 'body' ? undefined : {}));
  if (result.success) return result.data;
  const errors: FieldProblem[] = result.error.issues.map((issue) => ({
    path: [where, ...issue.path.map(String)].join('.'),
    message: issue.message,
    code: issue.code.toUpperCase(),
  }));
  throw new ApiError('INVALID_REQUEST', `the request ${where} is invalid: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, errors);
}

/** What a `Weft-Source` header may name: the client that started a run (`weft` sends `cli`). */
export const CLIENT_RUN_SOURCES = ['api', 'cli'] as const;

/** The run source a caller names in `Weft-Source` (`api` without the header); 400 for anything else. */
export function clientRunSource(request: IncomingMessage): (typeof CLIENT_RUN_SOURCES)[number] {
  const value = header(request, 'weft-source');
  if (value === undefined || value === 'api') return 'api';
  if (value === 'cli') return 'cli';
  throw new ApiError('INVALID_REQUEST', `Weft-Source must be api or cli (got ${JSON.stringify(value.slice(0, 40))})`, [
    { path: 'header.Weft-Source', message: 'api or cli' },
  ]);
}

/** A request header as one string (the first when repeated). */
export function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * `If-Match: "3"` as a revision number; undefined without the header; 400 when it is not a
 * strong ETag this API gave out. A weak one (`W/"3"`) is refused: If-Match compares strongly
 * (RFC 9110 13.1.1), and the drafts' ETags are strong.
 */
export function ifMatchRevision(request: IncomingMessage): number | undefined {
  const value = header(request, 'if-match');
  if (value === undefined) return undefined;
  const problem = (message: string): ApiError =>
    new ApiError('INVALID_REQUEST', `If-Match must be a strong ETag this API gave out, such as "3" (got ${value.slice(0, 100)}): ${message}`, [{ path: 'header.If-Match', message }]);
  if (/^\s*W\//.test(value)) throw problem('weak ETags never match in If-Match');
  const match = /^"(\d{1,10})"$/.exec(value.trim());
  if (!match || !Number.isSafeInteger(Number(match[1]))) throw problem('expected "<revision>"');
  return Number(match[1]);
}

/** Longest Idempotency-Key (stored in a unique index). */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 200;

/** The Idempotency-Key header, checked before anything is written: at most 200 visible ASCII characters (and spaces). */
export function idempotencyKey(request: IncomingMessage): string | undefined {
  const value = header(request, 'idempotency-key');
  if (value === undefined) return undefined;
  if (value.length === 0 || value.length > MAX_IDEMPOTENCY_KEY_LENGTH || !/^[\x20-\x7e]+$/.test(value)) {
    throw new ApiError('INVALID_REQUEST', `Idempotency-Key must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} visible ASCII characters (got ${value.length})`, [
      { path: 'header.Idempotency-Key', message: `1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} visible ASCII characters` },
    ]);
  }
  return value;
}

export const etag = (revision: number): string => `"${revision}"`;
