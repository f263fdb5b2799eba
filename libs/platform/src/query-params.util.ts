import { parseDuration } from '@weft/core';

/** A query string as Nest hands it over: repeated keys become arrays. */
export type RawQuery = Record<string, unknown>;

const RELATIVE = /^\d+(ms|s|m|h|d)/;

/** Whether a time parameter is a duration back from now (so the caller needs the current time). */
export const isRelativeTime = (text: string): boolean => RELATIVE.test(text);

/** Reads one query string; a malformed parameter throws the service's own error, made by `invalid`. */
export class QueryParams {
  constructor(
    private readonly raw: RawQuery,
    private readonly invalid: (message: string) => Error,
  ) {}

  /** A parameter given at most once; empty counts as absent. */
  single(key: string): string | undefined {
    const value = this.raw[key];
    if (value === undefined || value === '') return undefined;
    if (typeof value === 'string') return value;
    throw this.invalid(`${key}: give it once`);
  }

  /** Repeated and/or comma-separated values, trimmed, empty ones dropped. */
  list(key: string): string[] {
    const value = this.raw[key];
    const parts = typeof value === 'string' ? [value] : Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
    return parts.flatMap((p) => p.split(',')).map((p) => p.trim()).filter(Boolean);
  }

  /** A non-negative integer of at most `maxDigits` digits. */
  integer(key: string, maxDigits: number): number | undefined {
    const text = this.single(key);
    if (text === undefined) return undefined;
    if (!new RegExp(`^\\d{1,${maxDigits}}$`).test(text)) throw this.invalid(`${key}: expected an integer (got ${JSON.stringify(text)})`);
    return Number(text);
  }

  /** An ISO 8601 time, or a duration (`24h`, `7d`) counted back from `now`; epoch ms. */
  time(text: string, now: number, name: string): number {
    if (isRelativeTime(text)) {
      try {
        return now - parseDuration(text);
      } catch {
        // Not a duration after all: try it as a time below.
      }
    }
    const time = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN;
    if (Number.isNaN(time)) throw this.invalid(`${name}: expected an ISO 8601 time or a duration such as 24h (got ${JSON.stringify(text)})`);
    return time;
  }
}
