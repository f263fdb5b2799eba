import { LIFECYCLE_EVENT_TYPES, type LifecycleEventType } from '@weft/contracts';
import { parseDuration } from '@weft/core';
import { JournalError } from '../domain/journal.errors';
import type { EventQuery } from '../domain/journal.types';

/** A query string as Nest hands it over: repeated keys become arrays. */
export type RawQuery = Record<string, unknown>;

const KNOWN_TYPES: ReadonlySet<string> = new Set(LIFECYCLE_EVENT_TYPES);

/**
 * `?type=step.failed,step.retrying&since=24h&until=2026-01-02T00:00:00Z&limit=50&after=<cursor>`
 * (plus `workflow` and `runId` where the route allows). `since`/`until` take an
 * ISO 8601 time or a duration back from `now`.
 */
export function parseEventQuery(raw: RawQuery, now: number, allow: { workflow: boolean; runId: boolean }): EventQuery {
  const query: EventQuery = {};
  const types = list(raw, 'type');
  if (types.length > 0) {
    const unknown = types.filter((t) => !KNOWN_TYPES.has(t));
    if (unknown.length > 0) throw new JournalError('INVALID_QUERY', `type: unknown event type(s) ${unknown.join(', ')}; expected one of ${LIFECYCLE_EVENT_TYPES.join(', ')}`);
    query.types = types as LifecycleEventType[];
  }
  const since = single(raw, 'since');
  if (since !== undefined) query.since = parseTime(since, now, 'since');
  const until = single(raw, 'until');
  if (until !== undefined) query.until = parseTime(until, now, 'until');
  const limit = single(raw, 'limit');
  if (limit !== undefined) {
    if (!/^\d{1,4}$/.test(limit)) throw new JournalError('INVALID_QUERY', `limit: expected an integer (got ${JSON.stringify(limit)})`);
    query.limit = Number(limit);
  }
  const after = single(raw, 'after');
  if (after !== undefined) query.after = after;
  const workflow = single(raw, 'workflow');
  if (workflow !== undefined) {
    if (!allow.workflow) throw new JournalError('INVALID_QUERY', 'workflow: not a filter of this route');
    query.workflow = workflow;
  }
  const runId = single(raw, 'runId');
  if (runId !== undefined) {
    if (!allow.runId) throw new JournalError('INVALID_QUERY', 'runId: not a filter of this route');
    query.runId = runId;
  }
  return query;
}

/** An ISO 8601 time, or a duration (`24h`, `7d`) counted back from `now`; epoch ms. */
export function parseTime(text: string, now: number, name: string): number {
  if (/^\d+(ms|s|m|h|d)/.test(text)) {
    try {
      return now - parseDuration(text);
    } catch {
      // Not a duration after all: try it as a time below.
    }
  }
  const time = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(time)) throw new JournalError('INVALID_QUERY', `${name}: expected an ISO 8601 time or a duration such as 24h (got ${JSON.stringify(text)})`);
  return time;
}

/** Whether the query needs the current time (a relative since/until). */
export const needsNow = (raw: RawQuery): boolean => ['since', 'until'].some((key) => /^\d+(ms|s|m|h|d)/.test(single(raw, key) ?? ''));

function single(raw: RawQuery, key: string): string | undefined {
  const value = raw[key];
  if (value === undefined || value === '') return undefined;
  if (typeof value === 'string') return value;
  throw new JournalError('INVALID_QUERY', `${key}: give it once`);
}

function list(raw: RawQuery, key: string): string[] {
  const value = raw[key];
  const parts = typeof value === 'string' ? [value] : Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  return parts.flatMap((p) => p.split(',')).map((p) => p.trim()).filter(Boolean);
}
