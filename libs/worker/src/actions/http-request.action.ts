import type { Agent, Response } from 'undici';
import { ActionError, InvalidInputError, NonRetryableError } from '../action.errors';
import type { ActionDefinition } from '../action.types';
import { parseDurationMs } from '../duration.util';
import { DestinationDeniedError, HTTP_DESTINATION_DENIED, HttpDestinationGuard, type HttpDestinationPolicy, portOf } from './http-destination.guard';

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
export const HTTP_ERROR_CODES = {
  network: 'HTTP_NETWORK',
  timeout: 'HTTP_TIMEOUT',
  /** The destination (or a redirect's) is loopback, link-local, private, reserved or one of the deployment's own services; never retried. */
  destinationDenied: HTTP_DESTINATION_DENIED,
  /** More than MAX_REDIRECTS redirects; never retried. */
  redirects: 'HTTP_TOO_MANY_REDIRECTS',
} as const;

const BODY_EXCERPT = 200;
/** Redirects followed (each hop checked like the first request). */
export const MAX_REDIRECTS = 5;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

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

/** The DestinationDeniedError our lookup raised, wherever fetch wrapped it. */
function deniedIn(error: unknown): DestinationDeniedError | undefined {
  for (let e: unknown = error, depth = 0; e !== null && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof DestinationDeniedError) return e;
  }
  return undefined;
}

/** The request a redirect leads to, as fetch would follow it: 303 (and 301/302 of a POST) becomes a bodyless GET. */
function redirected(request: ReturnType<typeof readInput>, status: number, location: URL): ReturnType<typeof readInput> {
  const headers = new Headers(request.headers);
  // Credentials are for the origin they were written for.
  if (location.origin !== request.url.origin) for (const name of ['authorization', 'cookie', 'proxy-authorization']) headers.delete(name);
  const toGet = status === 303 ? request.method !== 'HEAD' : (status === 301 || status === 302) && request.method === 'POST';
  if (!toGet) return { ...request, url: location, headers };
  headers.delete('content-type');
  headers.delete('content-length');
  return { ...request, method: 'GET', url: location, headers, body: undefined };
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

export type HttpRequestOptions = HttpDestinationPolicy;

/**
 * http.request with a destination policy: loopback, link-local, private and reserved addresses
 * (and the deployment's own endpoints) are refused unless `allow` names them, checked on the
 * address actually connected to and again on every redirect hop.
 */
/** undici on first use: every process that registers the built-in actions would otherwise load it at start (~0.1 s). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const undici = (): typeof import('undici') => require('undici') as typeof import('undici');

export function createHttpRequestAction(options: HttpRequestOptions = {}): ActionDefinition {
  const guard = new HttpDestinationGuard(options);
  const agents = new Map<number, Agent>();
  // One agent per port: the lookup hook sees only the host name, and protected endpoints are host:port.
  const agentFor = (port: number): Agent => {
    let agent = agents.get(port);
    if (!agent) {
      agent = new (undici().Agent)({ connect: { lookup: guard.lookupFor(port) } });
      agents.set(port, agent);
    }
    return agent;
  };
  return {
    name: 'http.request',
    description:
      'Sends an HTTP request with fetch. Output { status, headers, body } (JSON bodies parsed). 5xx and network errors fail retryable (HTTP_5xx, HTTP_NETWORK, HTTP_TIMEOUT); 4xx fail for good (HTTP_4xx) unless failOnStatus is false. Loopback, private and link-local destinations fail with HTTP_DESTINATION_DENIED unless WEFT_HTTP_ALLOW allows them.',
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
      let request = readInput(input);
      const target = `${request.method} ${request.url.href}`;
      const timeoutSignal = request.timeoutMs === undefined ? undefined : AbortSignal.timeout(request.timeoutMs);
      const signal = timeoutSignal ? AbortSignal.any([ctx.signal, timeoutSignal]) : ctx.signal;

      let response: Response;
      let text: string;
      try {
        for (let hop = 0; ; hop++) {
          guard.checkUrl(request.url);
          const { url, method, headers, body } = request;
          response = await undici().fetch(url, { method, headers, body, signal, redirect: 'manual', dispatcher: agentFor(portOf(url)) });
          const location = response.headers.get('location');
          if (!REDIRECT_STATUSES.has(response.status) || location === null || !URL.canParse(location, url.href)) break;
          const next = new URL(location, url);
          if (next.protocol !== 'http:' && next.protocol !== 'https:') break;
          if (hop >= MAX_REDIRECTS) {
            throw new NonRetryableError(`${target}: more than ${MAX_REDIRECTS} redirects (last to ${next.href})`, { code: HTTP_ERROR_CODES.redirects });
          }
          await response.body?.cancel();
          request = redirected(request, response.status, next);
        }
        text = await response.text();
      } catch (error) {
        const denied = deniedIn(error);
        if (denied) throw denied;
        if (error instanceof ActionError) throw error;
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
}

/** http.request with the default policy (no allowlist): what a worker gets unless configured. */
export const httpRequestAction: ActionDefinition = createHttpRequestAction();
