/**
 * Polling arithmetic: when to poll next (backoff on errors, Retry-After honoured) and which
 * keys are new (a bounded seen-set). Item, key and cursor extraction is in trigger-expr.util.
 */

/** Longest delay a failing poll backs off to, unless Retry-After asks for more. */
export const MAX_POLL_BACKOFF_MS = 15 * 60_000;
/** Longest Retry-After honoured; a server asking for more is polled after this. */
export const MAX_RETRY_AFTER_MS = 24 * 3_600_000;
/** Keys remembered per poll trigger: each key starts at most one run while it is remembered. */
export const DEFAULT_SEEN_CAPACITY = 10_000;

/** Retry-After as a delay in ms: delta-seconds or an HTTP-date (RFC 9110 §10.2.3); undefined when absent or unreadable. */
export function parseRetryAfter(header: string | null | undefined, nowMs: number): number | undefined {
  if (header === null || header === undefined) return undefined;
  const text = header.trim();
  if (/^\d{1,10}$/.test(text)) return Math.min(Number(text) * 1000, MAX_RETRY_AFTER_MS);
  // An HTTP-date names its day and month; anything else ("-5") is not one.
  if (text.length > 64 || !/^[A-Za-z]{3},/.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.min(Math.max(0, at - nowMs), MAX_RETRY_AFTER_MS);
}

export interface PollDelayInput {
  /** The trigger's `every`, ms. */
  everyMs: number;
  /** Failed polls in a row, 0 after a success. */
  consecutiveFailures: number;
  /** The last response's Retry-After, ms. */
  retryAfterMs?: number;
}

/** The delay before the next poll: `every` after a success, doubling per failure up to a cap; never sooner than Retry-After. */
export function nextPollDelay({ everyMs, consecutiveFailures, retryAfterMs }: PollDelayInput): number {
  const backoff = consecutiveFailures === 0 ? everyMs : Math.min(Math.max(everyMs, MAX_POLL_BACKOFF_MS), everyMs * 2 ** Math.min(consecutiveFailures, 30));
  return Math.max(backoff, retryAfterMs ?? 0);
}

/** Whether a status is worth polling again later (the rest are configuration errors, still retried but logged as such). */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

/**
 * The keys of `candidates` not yet seen, in order, each once. `seen` answers for stored keys;
 * duplicates inside one page count once.
 */
export function newKeys(candidates: readonly string[], seen: (key: string) => boolean): string[] {
  const out: string[] = [];
  const page = new Set<string>();
  for (const key of candidates) {
    if (page.has(key) || seen(key)) continue;
    page.add(key);
    out.push(key);
  }
  return out;
}

/** How many of the oldest keys to forget so that `size` keys fit `capacity`. */
export function keysToForget(size: number, capacity: number): number {
  return Math.max(0, size - capacity);
}
