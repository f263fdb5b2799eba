import { ActionError, InvalidInputError, NonRetryableError } from '../action.errors';
import type { ActionDefinition } from '../action.types';
import { parseDurationMs } from '../duration.util';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
type Method = (typeof METHODS)[number];

export interface HttpRequestInput {
  method?: Method;
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  timeout?: string | number;
  failOnStatus?: boolean;
}

export interface HttpRequestOutput {
  status: number;
  headers: Record<string, string>;
  /** Parsed JSON when the response says it is JSON, the text otherwise (null when empty). */
  body: unknown;
}

/** Error codes of http.request; statuses become `HTTP_<status>` (HTTP_404, HTTP_503). */
export const HTTP_ERROR_CODES = { network: 'HTTP_NETWORK', timeout: 'HTTP_TIMEOUT' } as const;

const BODY_EXCERPT = 200;

function readInput(input: Record<string, unknown>): { method: Method; url: URL; headers: Headers; body?: string; timeoutMs?: number; failOnStatus: boolean } {
  const invalid = (message: string): InvalidInputError => new InvalidInputError('http.request', message);
  const method = (typeof input.method === 'string' ? input.method.toUpperCase() : (input.method ?? 'GET')) as Method;
  if (!METHODS.includes(method)) throw invalid(`with.method must be one of ${METHODS.join(', ')} (got ${JSON.stringify(input.method)})`);
  if (typeof input.url !== 'string' || !URL.canParse(input.url)) throw invalid(`with.url must be an absolute URL (got ${JSON.stringify(input.url)})`);
  const url = new URL(input.url);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid(`with.url must use http or https (got ${url.protocol})`);

  const headers = new Headers();
  if (input.headers !== undefined) {
    if (typeof input.headers !== 'object' || input.headers === null || Array.isArray(input.headers)) throw invalid('with.headers must be an object of strings');
    for (const [name, value] of Object.entries(input.headers)) headers.set(name, String(value));
  }

  let body: string | undefined;
  if (input.body !== undefined && input.body !== null) {
    if (method === 'GET' || method === 'HEAD') throw invalid(`a ${method} request cannot have with.body`);
    if (typeof input.body === 'string') body = input.body;
    else {
      body = JSON.stringify(input.body);
      if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    }
  }

  let timeoutMs: number | undefined;
  if (input.timeout !== undefined) {
    timeoutMs = parseDurationMs(input.timeout);
    if (timeoutMs === undefined || timeoutMs === 0) throw invalid(`with.timeout must be a positive duration such as 5s (got ${JSON.stringify(input.timeout)})`);
  }
  if (input.failOnStatus !== undefined && typeof input.failOnStatus !== 'boolean') throw invalid('with.failOnStatus must be a boolean');
  return { method, url, headers, body, timeoutMs, failOnStatus: input.failOnStatus !== false };
}

const isJson = (contentType: string | null): boolean => contentType !== null && /^application\/([\w.+-]+\+)?json\b/i.test(contentType.trim());

function parseBody(text: string, contentType: string | null): unknown {
  if (text === '') return null;
  if (!isJson(contentType)) return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // A server that mislabels its body should not fail the step: hand over the text.
    return text;
  }
}

/** fetch wraps the socket error (ECONNREFUSED, ENOTFOUND...) in `cause`. Duck-typed: it may come from another realm. */
const describeCause = (error: unknown): string => {
  const { message, cause } = (typeof error === 'object' && error !== null ? error : {}) as { message?: unknown; cause?: { code?: unknown; message?: unknown } };
  if (typeof cause === 'object' && cause !== null) {
    const detail = typeof cause.message === 'string' ? cause.message : String(cause);
    return typeof cause.code === 'string' && !detail.includes(cause.code) ? `${cause.code} (${detail})` : detail;
  }
  return typeof message === 'string' ? message : String(error);
};

export const httpRequestAction: ActionDefinition = {
  name: 'http.request',
  description:
    'Sends an HTTP request with fetch. Output { status, headers, body } (JSON bodies parsed). 5xx and network errors fail retryable (HTTP_5xx, HTTP_NETWORK, HTTP_TIMEOUT); 4xx fail for good (HTTP_4xx) unless failOnStatus is false.',
  inputSchema: {
    type: 'object',
    required: ['url'],
    properties: {
      method: { type: 'string', enum: [...METHODS], description: '@default GET' },
      url: { type: 'string', format: 'uri', description: 'Absolute http(s) URL.' },
      headers: { type: 'object', additionalProperties: { type: 'string' } },
      body: { description: 'A string is sent as is; anything else as JSON (content-type application/json unless set).' },
      timeout: {
        description: 'Request timeout (500ms, 10s, 1m or milliseconds); the step timeout applies anyway.',
        oneOf: [
          { type: 'string', pattern: '^(\\d+(ms|s|m|h|d))+$' },
          { type: 'number', exclusiveMinimum: 0 },
        ],
      },
      failOnStatus: { type: 'boolean', description: 'false completes with any status instead of failing on 4xx/5xx. @default true' },
    },
  },
  handler: async (input, ctx): Promise<HttpRequestOutput> => {
    const request = readInput(input);
    const target = `${request.method} ${request.url.href}`;
    const timeoutSignal = request.timeoutMs === undefined ? undefined : AbortSignal.timeout(request.timeoutMs);
    const signal = timeoutSignal ? AbortSignal.any([ctx.signal, timeoutSignal]) : ctx.signal;

    let response: Response;
    let text: string;
    try {
      response = await fetch(request.url, { method: request.method, headers: request.headers, body: request.body, signal });
      text = await response.text();
    } catch (error) {
      // The step's own abort (timeout, cancel, shutdown) is the worker's to report.
      if (ctx.signal.aborted) throw ctx.signal.reason;
      if (timeoutSignal?.aborted) {
        throw new ActionError(HTTP_ERROR_CODES.timeout, `${target}: no response within ${request.timeoutMs}ms`, { cause: error });
      }
      throw new ActionError(HTTP_ERROR_CODES.network, `${target} failed: ${describeCause(error)}`, { cause: error });
    }

    const output: HttpRequestOutput = {
      status: response.status,
      headers: Object.fromEntries(response.headers),
      body: parseBody(text, response.headers.get('content-type')),
    };
    if (request.failOnStatus && response.status >= 400) {
      const code = `HTTP_${response.status}`;
      const excerpt = text.length > BODY_EXCERPT ? `${text.slice(0, BODY_EXCERPT)}...` : text;
      const message = `${target} answered ${response.status} ${response.statusText}${excerpt ? `: ${excerpt}` : ''}`;
      // Server errors may pass; a client error will be the same on every attempt.
      throw response.status >= 500 ? new ActionError(code, message) : new NonRetryableError(message, { code });
    }
    return output;
  },
};
