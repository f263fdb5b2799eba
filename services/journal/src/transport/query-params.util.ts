import { JournalHttp, type LifecycleEventType, listValues, parseQuery } from '@weft/contracts';
import { isRelativeTime, QueryParams, type RawQuery } from '@weft/platform';
import type { z } from 'zod';
import { JournalError } from '../domain/journal.errors';
import type { EventQuery } from '../domain/journal.types';

export type { RawQuery } from '@weft/platform';

const invalidQuery = (message: string): JournalError => new JournalError('INVALID_QUERY', message);

/** A route that reads no query string refuses any parameter (issue 12: unknown parameters are refused on every route). */
export function refuseQuery(raw: RawQuery): void {
  const name = Object.keys(raw)[0];
  if (name !== undefined) throw invalidQuery(`query: Unrecognized key: ${JSON.stringify(name.slice(0, 100))}; this route takes no query parameters`);
}

/** Filters only some routes take: anywhere else they are refused, not ignored. */
const ROUTE_FILTERS = ['workflow', 'runId'] as const;

/**
 * `?type=step.failed,step.retrying&since=24h&until=2026-01-02T00:00:00Z&limit=50&after=<cursor>`
 * (plus `workflow` and `runId` where the route allows), validated with the API's schemas
 * (JournalHttp.RunEventsQuery, JournalHttp.EventsQuery: what GET /openapi.json shows).
 * `since`/`until` take an ISO 8601 time or a duration back from `now`.
 */
export function parseEventQuery(raw: RawQuery, now: number, allow: { workflow: boolean; runId: boolean }): EventQuery {
  for (const key of ROUTE_FILTERS) {
    if (!allow[key] && raw[key] !== undefined && raw[key] !== '') throw invalidQuery(`${key}: not a filter of this route`);
  }
  const wire: z.output<typeof JournalHttp.EventsQuery> =
    allow.workflow || allow.runId ? parseQuery(JournalHttp.EventsQuery, raw, invalidQuery) : parseQuery(JournalHttp.RunEventsQuery, raw, invalidQuery);
  const params = new QueryParams(raw, invalidQuery);
  const query: EventQuery = {};
  const types = listValues(wire.type);
  // The schema admits only lifecycle event types.
  if (types.length > 0) query.types = types as LifecycleEventType[];
  if (wire.since !== undefined) query.since = params.time(wire.since, now, 'since');
  if (wire.until !== undefined) query.until = params.time(wire.until, now, 'until');
  if (wire.limit !== undefined) query.limit = Number(wire.limit);
  if (wire.after !== undefined) query.after = wire.after;
  if (wire.workflow !== undefined) query.workflow = wire.workflow;
  if (wire.runId !== undefined) query.runId = wire.runId;
  return query;
}

/** Whether the query needs the current time (a relative since/until). */
export const needsNow = (raw: RawQuery): boolean => {
  const params = new QueryParams(raw, invalidQuery);
  return ['since', 'until'].some((key) => isRelativeTime(params.single(key) ?? ''));
};
