/** One HTTP GET as polling needs it; the service uses fetch, tests may inject a fake. */
export interface PollResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export type PollFetch = (url: string, headers: Record<string, string>, timeoutMs: number) => Promise<PollResponse>;

/** Largest poll response read, bytes. */
export const MAX_POLL_RESPONSE_BYTES = 5 * 1024 * 1024;

export const fetchPoll: PollFetch = async (url, headers, timeoutMs) => {
  const response = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
  const text = await response.text();
  if (text.length > MAX_POLL_RESPONSE_BYTES) throw new Error(`the response has ${text.length} characters; at most ${MAX_POLL_RESPONSE_BYTES} are read`);
  const out: Record<string, string> = {};
  response.headers.forEach((value, key) => void (out[key] = value));
  let body: unknown = text;
  if ((out['content-type'] ?? '').includes('json') && text.length > 0) {
    try {
      body = JSON.parse(text) as unknown;
    } catch {
      body = text;
    }
  }
  return { status: response.status, headers: out, body };
};
