/** Bounded polling: the only way these tests wait (never a fixed sleep). */
export class WaitTimeoutError extends Error {
  readonly code = 'WAIT_TIMEOUT';
  constructor(what: string, timeoutMs: number, last: unknown) {
    super(`timed out after ${timeoutMs}ms waiting for ${what}${last === undefined ? '' : `; last seen: ${describe(last)}`}`);
    this.name = 'WaitTimeoutError';
  }
}

export interface WaitOptions {
  timeoutMs: number;
  /** Pause between probes. @default 50 */
  intervalMs?: number;
  /** Named in the timeout error. */
  what?: string;
}

/**
 * Resolves with the first truthy value `probe` returns. A probe that throws counts as
 * "not yet" (a service still booting, a database briefly away); the last error or value
 * is reported when time runs out.
 */
export async function waitFor<T>(probe: () => T | undefined | null | false | Promise<T | undefined | null | false>, options: WaitOptions): Promise<T> {
  const { timeoutMs, intervalMs = 50, what = 'a condition' } = options;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false) return value;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() >= deadline) throw new WaitTimeoutError(what, timeoutMs, last);
    await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, Math.max(0, deadline - Date.now()))));
  }
}

function describe(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  try {
    const text = JSON.stringify(value);
    return text === undefined ? String(value) : text.length > 500 ? `${text.slice(0, 500)}…` : text;
  } catch {
    return String(value);
  }
}

/**
 * Keeps a fault in place for `durationMs` while checking an invariant all along: resolves
 * if `check` held at every probe, rejects with the first violation. For "nothing happens
 * while X is down" claims, where there is no event to wait for.
 */
export async function holdsFor(durationMs: number, check: () => Promise<void> | void, intervalMs = 200): Promise<void> {
  const until = Date.now() + durationMs;
  for (;;) {
    await check();
    const left = until - Date.now();
    if (left <= 0) return;
    await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, left)));
  }
}
