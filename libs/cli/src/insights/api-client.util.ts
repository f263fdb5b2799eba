import { STATUS_CODES } from 'node:http';
import { InsightsCliError } from './insights-cli.errors';

export type FetchLike = (url: string, init?: { signal?: AbortSignal; headers?: Record<string, string> }) => Promise<Response>;

/** The base URL of a deployment's API, without a trailing slash or /v1. */
export function apiBase(url: string): string {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed?.protocol !== 'http:' && parsed?.protocol !== 'https:') {
    throw new InsightsCliError('INVALID', `--api: expected a URL such as http://127.0.0.1:8080 (got ${JSON.stringify(url)})`);
  }
  return parsed.toString().replace(/\/+$/, '').replace(/\/v1$/, '');
}

/**
 * GET `<base><path>?<query>` and the JSON answer. RFC 7807 problems become
 * InsightsCliError (404 NOT_FOUND, other 4xx INVALID, 5xx API_ERROR) with the problem's detail.
 */
export async function getJson<T>(base: string, path: string, query: Record<string, string | undefined> = {}, fetchImpl: FetchLike = fetch, timeoutMs = 15_000): Promise<T> {
  const params = new URLSearchParams(Object.entries(query).filter((entry): entry is [string, string] => entry[1] !== undefined));
  const url = `${base}${path}${params.size > 0 ? `?${params.toString()}` : ''}`;
  let response: Response;
  try {
    response = await fetchImpl(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json, application/problem+json' } });
  } catch (cause) {
    throw new InsightsCliError('API_UNREACHABLE', `cannot reach ${base}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
  const text = await response.text();
  if (response.ok) {
    try {
      return JSON.parse(text) as T;
    } catch (cause) {
      throw new InsightsCliError('API_ERROR', `${url} did not answer JSON`, { cause });
    }
  }
  const problem = parseProblem(text);
  const reason = response.statusText || (STATUS_CODES[response.status] ?? '');
  const detail = problem?.detail ?? (text.trim().slice(0, 200) || reason);
  const code = response.status === 404 ? 'NOT_FOUND' : response.status < 500 ? 'INVALID' : 'API_ERROR';
  throw new InsightsCliError(code, `${response.status} ${problem?.title ?? reason}: ${detail}`);
}

function parseProblem(text: string): { title?: string; detail?: string } | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (value === null || typeof value !== 'object') return undefined;
    const record = value as Record<string, unknown>;
    return {
      ...(typeof record['title'] === 'string' && { title: record['title'] }),
      ...(typeof record['detail'] === 'string' && { detail: record['detail'] }),
    };
  } catch {
    return undefined;
  }
}
