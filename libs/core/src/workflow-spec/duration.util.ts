import { WeftError } from '@weft/contracts';
import { DURATION_PATTERN } from './spec.schema';

export class DurationError extends WeftError<'INVALID_DURATION'> {
  constructor(
    readonly text: string,
    message: string,
  ) {
    super('INVALID_DURATION', message);
  }
}

const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000, ms: 1 } as const;
type Unit = keyof typeof UNIT_MS;
const DURATION = new RegExp(DURATION_PATTERN);
const PART = /(\d+)(ms|s|m|h|d)/g;

/** Milliseconds of a spec duration (`500ms`, `30s`, `1h30m`; parts add up). Throws DurationError. */
export function parseDuration(text: string): number {
  if (typeof text !== 'string' || !DURATION.test(text)) {
    throw new DurationError(String(text), `invalid duration ${JSON.stringify(text)}: expected digits and a unit (ms, s, m, h, d), e.g. 500ms, 30s or 1h30m`);
  }
  let total = 0;
  for (const [, amount, unit] of text.matchAll(PART)) total += Number(amount) * UNIT_MS[unit as Unit];
  if (!Number.isSafeInteger(total)) throw new DurationError(text, `duration "${text}" is too long`);
  return total;
}

/**
 * The shortest spec duration for `ms` (rounded to whole milliseconds): 90000 -> `1m30s`.
 * `parseDuration(formatDuration(n)) === n` for every non-negative integer; negatives get a
 * leading `-` for display only.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) throw new DurationError(String(ms), `cannot format ${ms} as a duration`);
  if (ms < 0) return `-${formatDuration(-ms)}`;
  let rest = Math.round(ms);
  if (rest === 0) return '0ms';
  let out = '';
  for (const unit of Object.keys(UNIT_MS) as Unit[]) {
    const size = UNIT_MS[unit];
    if (rest >= size) {
      out += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return out;
}

/** A time for people, not for specs: 850ms, 1.25s, 42.0s, 3m05s, 1h02m. */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)}s`;
  const total = Math.round(ms / 1000);
  const minutes = Math.floor(total / 60);
  const seconds = total % 60;
  return minutes < 60 ? `${minutes}m${String(seconds).padStart(2, '0')}s` : `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}
