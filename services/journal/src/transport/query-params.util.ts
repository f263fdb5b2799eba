import { LIFECYCLE_EVENT_TYPES, type LifecycleEventType } from '@weft/contracts';
import { isRelativeTime, QueryParams, type RawQuery } from '@weft/platform';
import { JournalError } from '../domain/journal.errors';
import type { EventQuery } from '../domain/journal.types';

export type { RawQuery } from '@weft/platform';

const KNOWN_TYPES: ReadonlySet<string> = new Set(LIFECYCLE_EVENT_TYPES);

const invalidQuery = (message: string): JournalError => new JournalError('INVALID_QUERY', message);

/**
 * `?type=step.failed,step.retrying&since=24h&until=2026-01-02T00:00:00Z&limit=50&after=<cursor>`
 * (plus `workflow` and `runId` where the route allows). `since`/`until` take an
 * ISO 8601 time or a duration back from `now`.
 */
export function parseEventQuery(raw: RawQuery, now: number, allow: { workflow: boolean; runId: boolean }): EventQuery {
  const params = new QueryParams(raw, invalidQuery);
  const query: EventQuery = {};
  const types = params.list('type');
  if (types.length > 0) {
    const unknown = types.filter((t) => !KNOWN_TYPES.has(t));
    if (unknown.length > 0) throw invalidQuery(`type: unknown event type(s) ${unknown.join(', ')}; expected one of ${LIFECYCLE_EVENT_TYPES.join(', ')}`);
    query.types = types as LifecycleEventType[];
  }
  const since = params.single('since');
  if (since !== undefined) query.since = params.time(since, now, 'since');
  const until = params.single('until');
  if (until !== undefined) query.until = params.time(until, now, 'until');
  const limit = params.integer('limit', 4);
  if (limit !== undefined) query.limit = limit;
  const after = params.single('after');
  if (after !== undefined) query.after = after;
  const workflow = params.single('workflow');
  if (workflow !== undefined) {
    if (!allow.workflow) throw invalidQuery('workflow: not a filter of this route');
    query.workflow = workflow;
  }
  const runId = params.single('runId');
  if (runId !== undefined) {
    if (!allow.runId) throw invalidQuery('runId: not a filter of this route');
    query.runId = runId;
  }
  return query;
}

/** Whether the query needs the current time (a relative since/until). */
export const needsNow = (raw: RawQuery): boolean => {
  const params = new QueryParams(raw, invalidQuery);
  return ['since', 'until'].some((key) => isRelativeTime(params.single(key) ?? ''));
};
