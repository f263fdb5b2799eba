import { codedErrorMessage } from '@weft/platform/testing';
import { AnalyticsError } from '../domain/analytics.errors';
import { parseInsightQuery } from './query-params.util';

const NOW = Date.parse('2026-03-02T00:00:00.000Z');
const H = 3_600_000;

/** The INVALID_QUERY message parseInsightQuery throws for `raw` (fails the test when it does not throw). */
const problem = (raw: Record<string, unknown>): string => codedErrorMessage(() => parseInsightQuery(raw, NOW), AnalyticsError, 'INVALID_QUERY', `parseInsightQuery(${JSON.stringify(raw)})`);

describe('parseInsightQuery', () => {
  it('defaults to the last 24 hours up to now', () => {
    expect(parseInsightQuery({}, NOW)).toEqual({ since: NOW - 24 * H, until: NOW });
    expect(parseInsightQuery({ since: '', until: '', workflow: '' }, NOW)).toEqual({ since: NOW - 24 * H, until: NOW });
    // Unknown parameters are refused, as on every route (issue 12).
    expect(() => parseInsightQuery({ other: 'x' }, NOW)).toThrow('query: Unrecognized key: "other"');
  });

  it('reads the window, the workflow and the figures\' options', () => {
    expect(parseInsightQuery({ workflow: 'etl', since: '2026-03-01T00:00:00Z', until: '1h', limit: '5', window: '3', granularity: 'day' }, NOW)).toEqual({
      workflow: 'etl',
      since: Date.parse('2026-03-01T00:00:00Z'),
      until: NOW - H,
      limit: 5,
      movingWindow: 3,
      granularity: 'day',
    });
  });

  it('refuses a malformed parameter with a message naming it', () => {
    expect(problem({ since: 'yesterday' })).toBe('since: expected an ISO 8601 time or a duration such as 24h (got "yesterday")');
    expect(problem({ until: ['1h', '2h'] })).toBe('until: give it once');
    expect(problem({ limit: '-1' })).toBe('limit: expected an integer (got "-1")');
    expect(problem({ window: '1234567' })).toBe('window: expected an integer (got "1234567")');
    expect(problem({ granularity: 'week' })).toBe('granularity: expected hour or day (got "week")');
    expect(problem({ granularity: ['hour', 'day'] })).toBe('granularity: give it once');
  });
});
