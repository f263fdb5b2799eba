import { codedErrorMessage } from '@weft/platform/testing';
import { JournalError } from '../domain/journal.errors';
import { needsNow, parseEventQuery, refuseQuery } from './query-params.util';

const NOW = Date.parse('2026-01-05T12:00:00.000Z');
const RUN_ROUTE = { workflow: false, runId: false };
const EVENTS_ROUTE = { workflow: true, runId: true };

/** The INVALID_QUERY message parseEventQuery throws for `raw` (fails the test when it does not throw). */
const problem = (raw: Record<string, unknown>, allow = EVENTS_ROUTE): string =>
  codedErrorMessage(() => parseEventQuery(raw, NOW, allow), JournalError, 'INVALID_QUERY', `parseEventQuery(${JSON.stringify(raw)})`);

describe('parseEventQuery', () => {
  it('reads every filter of /v1/events: lists, relative and absolute times, integers, cursors', () => {
    expect(
      parseEventQuery(
        { type: ['step.failed, step.retrying', 'run.failed', ''], since: '24h', until: '2026-01-05T00:00:00Z', limit: '50', after: 'c1', workflow: 'etl', runId: 'r1' },
        NOW,
        EVENTS_ROUTE,
      ),
    ).toEqual({
      types: ['step.failed', 'step.retrying', 'run.failed'],
      since: NOW - 24 * 3_600_000,
      until: Date.parse('2026-01-05T00:00:00Z'),
      limit: 50,
      after: 'c1',
      workflow: 'etl',
      runId: 'r1',
    });
  });

  it('a route that reads no query refuses any parameter (issue 12)', () => {
    expect(() => refuseQuery({})).not.toThrow();
    expect(() => refuseQuery({ page: '2' })).toThrow('query: Unrecognized key: "page"; this route takes no query parameters');
  });

  it('treats empty values as absent and refuses parameters it does not know (issue 12)', () => {
    expect(parseEventQuery({ type: '', since: '', limit: '', workflow: '' }, NOW, EVENTS_ROUTE)).toEqual({});
    expect(parseEventQuery({}, NOW, RUN_ROUTE)).toEqual({});
    expect(problem({ page: '2' })).toBe('query: Unrecognized key: "page"');
  });

  it('refuses a malformed parameter with a message naming it', () => {
    expect(problem({ since: 'last-tuesday' })).toBe('since: expected an ISO 8601 time or a duration such as 24h (got "last-tuesday")');
    expect(problem({ until: '2026-13-45' })).toBe('until: expected an ISO 8601 time or a duration such as 24h (got "2026-13-45")');
    expect(problem({ type: 'step.failed,step.exploded' })).toMatch(/^type: unknown event type\(s\) step\.exploded; expected one of run\.queued, /);
    expect(problem({ limit: 'ten' })).toBe('limit: expected an integer (got "ten")');
    expect(problem({ limit: '12345' })).toBe('limit: expected an integer (got "12345")');
    expect(problem({ after: ['a', 'b'] })).toBe('after: give it once');
    expect(problem({ workflow: ['a', 'b'] })).toBe('workflow: give it once');
  });

  it('refuses the cross-run filters on a run\'s own events', () => {
    expect(problem({ workflow: 'x' }, RUN_ROUTE)).toBe('workflow: not a filter of this route');
    expect(problem({ runId: 'r2' }, RUN_ROUTE)).toBe('runId: not a filter of this route');
    expect(parseEventQuery({ type: 'step.failed', workflow: '' }, NOW, RUN_ROUTE)).toEqual({ types: ['step.failed'] });
  });
});

describe('needsNow', () => {
  it('asks for the clock only for a relative since or until', () => {
    expect(needsNow({ since: '1h' })).toBe(true);
    expect(needsNow({ until: '30m' })).toBe(true);
    expect(needsNow({ since: '2026-01-01T00:00:00Z' })).toBe(false);
    expect(needsNow({})).toBe(false);
  });
});
