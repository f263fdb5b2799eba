import type { Problem } from '@weft/sdk';

const KEY_STORAGE = 'weft.apiKey';

/** The API key lives in this tab's session storage only: never in a URL, gone when the tab closes. */
export const apiKey = {
  get: (): string | null => sessionStorage.getItem(KEY_STORAGE),
  set: (key: string): void => sessionStorage.setItem(KEY_STORAGE, key),
  clear: (): void => sessionStorage.removeItem(KEY_STORAGE),
};

/** An answer that was not 2xx, with the server's problem+json when it sent one. */
export class ApiError extends Error {
  readonly code: string;
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.title ?? `HTTP ${problem.status}`);
    this.name = 'ApiError';
    this.code = problem.code ?? `HTTP_${problem.status}`;
  }
  get status(): number {
    return this.problem.status;
  }
}

type Listener = () => void;
const unauthorizedListeners = new Set<Listener>();
/** The key prompt subscribes here: any 401 opens it. */
export function onUnauthorized(listener: Listener): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

export function authHeaders(): Record<string, string> {
  const key = apiKey.get();
  return key ? { Authorization: `Bearer ${key}` } : {};
}

async function problemOf(res: Response): Promise<Problem> {
  const type = res.headers.get('content-type') ?? '';
  if (type.includes('json')) {
    try {
      const body = (await res.json()) as Partial<Problem>;
      return { ...fallback(res), ...body, status: res.status };
    } catch {
      // fall through: a broken body still has a status
    }
  }
  return fallback(res);
}

/** What a problem says when the answer had no problem+json body (a proxy's 502, say). */
function fallback(res: Response): Problem {
  const title = res.statusText || `HTTP ${res.status}`;
  return { type: 'about:blank', title, status: res.status, detail: '', code: `HTTP_${res.status}` };
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export async function request(path: string, options: RequestOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { Accept: 'application/json', ...authHeaders(), ...options.headers };
  let body: string | undefined;
  if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  const res = await fetch(path, { method: options.method ?? 'GET', headers, body, signal: options.signal });
  if (res.status === 401) for (const listener of unauthorizedListeners) listener();
  if (!res.ok) throw new ApiError(await problemOf(res));
  return res;
}

export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const res = await request(path, options);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

/** A query string from the set values only. */
export function qs(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') search.set(k, String(v));
  const s = search.toString();
  return s ? `?${s}` : '';
}

export const enc = encodeURIComponent;
