import { z } from 'zod';
import { InsightsQuery } from './insights';
import { EventsQuery, RunEventsQuery } from './journal';
import { listValues, parseQuery } from './query';

class BadQuery extends Error {}
const bad = (message: string): BadQuery => new BadQuery(message);

describe('parseQuery', () => {
  it('returns the wire values, empty ones left out', () => {
    expect(parseQuery(EventsQuery, { type: 'run.failed', since: '', limit: '10' }, bad)).toEqual({ type: 'run.failed', limit: '10' });
  });

  it('refuses unknown parameters, durations past 100 years and values past 500 characters (issue 12)', () => {
    expect(() => parseQuery(EventsQuery, { type: 'run.failed', page: '2' }, bad)).toThrow(new BadQuery('query: Unrecognized key: "page"'));
    expect(() => parseQuery(InsightsQuery, { since: '99999999999h' }, bad)).toThrow(new BadQuery('since: expected a duration of at most 36500d (got "99999999999h")'));
    expect(parseQuery(InsightsQuery, { since: '36500d' }, bad)).toEqual({ since: '36500d' });
    expect(() => parseQuery(InsightsQuery, { workflow: 'a'.repeat(501) }, bad)).toThrow(/^workflow: Too big/);
  });

  it('throws the caller\'s error naming the first bad parameter', () => {
    expect(() => parseQuery(EventsQuery, { since: 'soon', limit: 'x' }, bad)).toThrow(new BadQuery('since: expected an ISO 8601 time or a duration such as 24h (got "soon")'));
    expect(() => parseQuery(InsightsQuery, { workflow: ['a', 'b'] }, bad)).toThrow(new BadQuery('workflow: give it once'));
    expect(() => parseQuery(RunEventsQuery, { type: ['run.failed', 'nope'] }, bad)).toThrow(/^type: unknown event type\(s\) nope; expected one of /);
  });

  it('takes ISO 8601 times and durations, nothing else', () => {
    for (const since of ['24h', '1h30m', '500ms', '2026-03-01', '2026-03-01T10:00:00Z', '2026-03-01T10:00:00.123+02:00']) {
      expect(parseQuery(InsightsQuery, { since }, bad)).toEqual({ since });
    }
    for (const since of ['yesterday', '24', 'h', '1y', '2026-02-31x', '03/01/2026']) expect(() => parseQuery(InsightsQuery, { since }, bad)).toThrow(BadQuery);
  });
});

describe('listValues', () => {
  it('splits repeated and comma-separated values, trimmed, empty ones dropped', () => {
    expect(listValues(['a, b', '', 'c,,'])).toEqual(['a', 'b', 'c']);
    expect(listValues(undefined)).toEqual([]);
  });
});

describe('the query schemas as JSON Schema', () => {
  it('describe the wire form: strings with their patterns and enums', () => {
    const json = z.toJSONSchema(InsightsQuery, { io: 'input' }) as { properties: Record<string, Record<string, unknown>>; required?: string[] };
    expect(json.required).toBeUndefined();
    expect(json.properties.limit).toMatchObject({ type: 'string', pattern: '^\\d{1,6}$' });
    expect(json.properties.granularity).toMatchObject({ type: 'string', enum: ['hour', 'day'] });
    expect(json.properties.since).toMatchObject({ type: 'string', pattern: expect.any(String) });
  });
});
