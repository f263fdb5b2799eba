import type { LifecycleEvent } from '@weft/contracts';
import type { Problem, Run, RunStreamEvent } from './api.types';
import { WeftApiError, WeftConnectionError } from './client.errors';
import { readServerSentEvents } from './sse.util';
import type { FetchLike, RunEventsQuery, InsightsQuery, RunRequest, WeftClientOptions } from './weft.client.types';

export type Query = Record<string, string | undefined>;

/** WeftClient's one way to the API: the URL, the key, JSON in and out, problem documents as WeftApiError. */
export class WeftHttp {
  private readonly base: string;
  private readonly apiKey: string | undefined;
  private readonly fetchFn: FetchLike;

  constructor(options: WeftClientOptions) {
    this.base = options.url.replace(/\/+$/, '');
    this.apiKey = options.apiKey;
    this.fetchFn = options.fetch ?? globalThis.fetch;
  }

  async json<T>(method: string, path: string, payload?: unknown, query: Query = {}, headers: Record<string, string> = {}): Promise<T> {
    return (await (await this.call(method, path, payload, query, headers)).json()) as T;
  }

  /** A run's server-sent events: its snapshot, each lifecycle event, its end. */
  async *sse(method: string, path: string, payload?: unknown, query: Query = {}, key?: string): AsyncGenerator<RunStreamEvent> {
    const response = await this.call(method, path, payload, query, { Accept: 'text/event-stream', ...idempotency(key) });
    if (!response.body) throw new WeftConnectionError(`${method} ${path}: the stream has no body`);
    for await (const sse of readServerSentEvents(response.body)) {
      const data: unknown = JSON.parse(sse.data);
      if (sse.event === 'snapshot') yield { type: 'snapshot', run: data as Run };
      else if (sse.event === 'end') yield { type: 'end', run: data as Run };
      else if (sse.event === 'message') yield { type: 'event', event: data as LifecycleEvent };
    }
  }

  /** One request; a problem document becomes WeftApiError. */
  async call(method: string, path: string, payload?: unknown, query: Query = {}, headers: Record<string, string> = {}): Promise<Response> {
    const search = new URLSearchParams(Object.entries(query).filter((entry): entry is [string, string] => entry[1] !== undefined)).toString();
    const url = `${this.base}${path}${search ? `?${search}` : ''}`;
    let response: Response;
    try {
      response = await this.fetchFn(url, {
        method,
        headers: {
          Accept: 'application/json',
          ...(this.apiKey !== undefined && { Authorization: `Bearer ${this.apiKey}` }),
          ...(payload !== undefined && { 'Content-Type': 'application/json' }),
          ...headers,
        },
        ...(payload !== undefined && { body: JSON.stringify(payload) }),
      });
    } catch (error) {
      // fetch's own message ('fetch failed') says less than its cause (ECONNREFUSED ...).
      const reason = error instanceof Error ? (error.cause instanceof Error ? error.cause : error).message : String(error);
      throw new WeftConnectionError(`cannot reach the Weft API at ${this.base}: ${reason}`, { cause: error });
    }
    if (response.ok) return response;
    const type = response.headers.get('content-type') ?? '';
    if (type.includes('json')) throw new WeftApiError((await response.json()) as Problem);
    throw new WeftConnectionError(`${method} ${path}: HTTP ${response.status} from something that is not the Weft API (${type || 'no content type'})`);
  }
}

export const enc = encodeURIComponent;

export const idempotency = (key: string | undefined): Record<string, string> => (key === undefined ? {} : { 'Idempotency-Key': key });

/** `limit` as a query parameter, left out when not given. */
export const limitQuery = (limit: number | undefined): Query => (limit === undefined ? {} : { limit: String(limit) });

/** The string fields of a query whose values are strings (or absent). */
type StringKeys<Q> = { [K in keyof Q]-?: Q[K] extends string | undefined ? K : never }[keyof Q] & string;

/** A listing's query string: the named filters as given, the cursor, `extra`, then the limit. */
export function pageQuery<Q extends { cursor?: string; limit?: number }>(query: Q, filters: readonly StringKeys<Q>[], extra: Query = {}): Query {
  const given: Query = {};
  for (const name of filters) given[name] = query[name] as string | undefined;
  return { ...given, cursor: query.cursor, ...extra, ...limitQuery(query.limit) };
}

export function eventsQuery(query: RunEventsQuery): Query {
  return { type: query.type?.join(','), since: query.since, until: query.until, limit: query.limit?.toString(), after: query.cursor };
}

export function windowQuery(query: InsightsQuery): Query {
  return { workflow: query.workflow, since: query.since, until: query.until };
}

/** A run request's body: `extra` (spec or version), inputs and correlation id, without undefined fields. */
export function body(request: RunRequest, extra: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries({ ...extra, inputs: request.inputs, correlationId: request.correlationId })) if (value !== undefined) out[name] = value;
  return out;
}
