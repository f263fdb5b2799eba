import { WeftError } from '@weft/contracts';
import { DurationError, parseDuration } from '../workflow-spec';
import type { Millis, StepWait } from './types';

/**
 * Reads the rendered `with` of a `sleep` or `wait.event` step into its wake condition.
 * Validation catches what it can see statically; this sees values that came from expressions.
 */

/** Bounds of a wait (every input is bounded). */
export const WAIT_LIMITS = {
  /** Longest sleep or wait timeout: a year. */
  maxWaitMs: 366 * 86_400_000,
  /** Longest lookback: the default signal retention (7d); older signals are gone anyway. */
  maxLookbackMs: 7 * 86_400_000,
  /** Characters of a wait's key. */
  keyLength: 500,
} as const;

/** A wait's input does not say what to wait for; the step fails with INVALID_WAIT. */
export class WaitInputError extends WeftError<'INVALID_WAIT'> {
  constructor(message: string) {
    super('INVALID_WAIT', message);
  }
}

/** `with: { duration }` (a duration or milliseconds) or `with: { until }` (ISO 8601 time or epoch ms). */
export function sleepWait(input: Record<string, unknown>, at: Millis): Extract<StepWait, { kind: 'sleep' }> {
  const { duration, until } = input;
  if ((duration === undefined) === (until === undefined)) throw new WaitInputError('a sleep needs exactly one of with.duration and with.until');
  if (duration !== undefined) return { kind: 'sleep', until: at + durationMs(duration, 'with.duration') };
  let time: number;
  if (typeof until === 'number') time = until;
  else if (typeof until === 'string') time = Date.parse(until);
  else throw new WaitInputError(`with.until must be an ISO 8601 time, got ${JSON.stringify(until)}`);
  if (!Number.isFinite(time)) throw new WaitInputError(`with.until ${JSON.stringify(until)} is not an ISO 8601 time (e.g. 2026-12-24T18:00:00Z)`);
  if (time - at > WAIT_LIMITS.maxWaitMs) throw new WaitInputError(`with.until ${JSON.stringify(until)} is more than a year away`);
  // A time already past wakes at once.
  return { kind: 'sleep', until: Math.max(at, time) };
}

/** `with: { event, key?, match?, timeout, lookback? }`. */
export function eventWait(input: Record<string, unknown>, at: Millis): Extract<StepWait, { kind: 'event' }> {
  const { event, key, match, timeout, lookback } = input;
  if (typeof event !== 'string' || event.length === 0) throw new WaitInputError(`with.event must name a signal, got ${JSON.stringify(event)}`);
  if (timeout === undefined) throw new WaitInputError('a wait.event step needs with.timeout (how long to wait for the signal)');
  const timeoutMs = durationMs(timeout, 'with.timeout');
  const lookbackMs = lookback === undefined ? 0 : durationMs(lookback, 'with.lookback');
  if (lookbackMs > WAIT_LIMITS.maxLookbackMs) throw new WaitInputError(`with.lookback is longer than ${WAIT_LIMITS.maxLookbackMs / 86_400_000}d`);
  const wait: Extract<StepWait, { kind: 'event' }> = { kind: 'event', name: event, since: at - lookbackMs, expiresAt: at + timeoutMs };
  if (key !== undefined && key !== null) {
    if (typeof key !== 'string' && typeof key !== 'number' && typeof key !== 'boolean') throw new WaitInputError(`with.key must be a string, got ${JSON.stringify(key)}`);
    const text = String(key);
    if (text.length === 0 || text.length > WAIT_LIMITS.keyLength) throw new WaitInputError(`with.key must have 1 to ${WAIT_LIMITS.keyLength} characters`);
    wait.key = text;
  }
  if (match !== undefined) {
    if (typeof match !== 'string') throw new WaitInputError('with.match must be a CEL condition over `event`');
    wait.match = match;
  }
  return wait;
}

function durationMs(value: unknown, field: string): number {
  let ms: number;
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) ms = value;
  else if (typeof value === 'string') {
    try {
      ms = parseDuration(value);
    } catch (error) {
      if (error instanceof DurationError) throw new WaitInputError(`${field}: ${error.message}`);
      throw error;
    }
  } else throw new WaitInputError(`${field} must be a duration such as 30s or 2h, got ${JSON.stringify(value)}`);
  if (ms > WAIT_LIMITS.maxWaitMs) throw new WaitInputError(`${field} is longer than a year`);
  return ms;
}
