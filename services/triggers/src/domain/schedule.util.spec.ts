import { nextFireAfter, parseSchedule, periodAfter, ScheduleError, ticksBetween } from './schedule.util';

const iso = (ms: number): string => new Date(ms).toISOString();
const at = (text: string): number => Date.parse(text);
const ticks = (expr: string, tz: string, from: string, to: string): string[] => ticksBetween(parseSchedule(expr, tz), at(from), at(to), 1000).ticks.map(iso);

describe('parseSchedule', () => {
  it.each(['0 2 * * *', '*/5 * * * * *', '@hourly', '@daily', '@weekly', '@monthly', '@yearly', '@every 30s', '@every 1h30m', '0 9 * * MON-FRI'])('accepts %s', (expr) => {
    expect(() => parseSchedule(expr, 'Europe/Berlin')).not.toThrow();
  });

  it.each([
    ['', 'empty'],
    ['* * * *', '4 fields'],
    ['1 2 3 4 5 6 7', '7 fields'],
    ['61 * * * *', 'minute'],
    ['@fortnightly', 'unknown schedule'],
    ['@every 500ms', 'shortest interval'],
    ['@every soon', 'invalid duration'],
    ['0 0 30 2 *', 'never fires'],
  ])('refuses %j (%s)', (expr, message) => {
    expect(() => parseSchedule(expr)).toThrow(ScheduleError);
    expect(() => parseSchedule(expr)).toThrow(message);
  });

  it('refuses an unknown time zone', () => {
    expect(() => parseSchedule('0 2 * * *', 'Mars/Olympus')).toThrow('unknown time zone "Mars/Olympus"');
    expect(() => parseSchedule('@every 1m', 'Mars/Olympus')).toThrow(ScheduleError);
  });
});

describe('nextFireAfter and ticksBetween', () => {
  it('is strictly after the given instant', () => {
    const s = parseSchedule('0 * * * *');
    expect(iso(nextFireAfter(s, at('2026-01-01T10:00:00Z')) ?? 0)).toBe('2026-01-01T11:00:00.000Z');
    expect(iso(nextFireAfter(s, at('2026-01-01T09:59:59.999Z')) ?? 0)).toBe('2026-01-01T10:00:00.000Z');
  });

  it('matches local wall time in the zone', () => {
    expect(ticks('0 2 * * *', 'Europe/Berlin', '2026-01-10T00:00:00Z', '2026-01-11T12:00:00Z')).toEqual(['2026-01-10T01:00:00.000Z', '2026-01-11T01:00:00.000Z']);
    expect(ticks('0 2 * * *', 'America/New_York', '2026-07-01T00:00:00Z', '2026-07-02T00:00:00Z')).toEqual(['2026-07-01T06:00:00.000Z']);
  });

  it('supports seconds as a sixth field', () => {
    expect(ticks('*/20 * * * * *', 'UTC', '2026-01-01T00:00:00Z', '2026-01-01T00:01:00Z')).toEqual([
      '2026-01-01T00:00:20.000Z',
      '2026-01-01T00:00:40.000Z',
      '2026-01-01T00:01:00.000Z',
    ]);
  });

  it('@every counts from the epoch, whatever the zone and the start', () => {
    expect(ticks('@every 30s', 'Europe/Berlin', '2026-01-01T00:00:10Z', '2026-01-01T00:01:00Z')).toEqual(['2026-01-01T00:00:30.000Z', '2026-01-01T00:01:00.000Z']);
  });

  it('stops at the limit and says so', () => {
    const list = ticksBetween(parseSchedule('@every 1s'), 0, 10_000, 3);
    expect(list).toEqual({ ticks: [1000, 2000, 3000], truncated: true });
    expect(ticksBetween(parseSchedule('@every 1s'), 0, 3000, 3)).toEqual({ ticks: [1000, 2000, 3000], truncated: false });
  });

  it('periodAfter is the gap between the next two fires', () => {
    expect(periodAfter(parseSchedule('@every 30s'), 0)).toBe(30_000);
    expect(periodAfter(parseSchedule('0 */2 * * *'), at('2026-01-01T00:30:00Z'))).toBe(2 * 3_600_000);
  });
});

// 2026 in Europe/Berlin: 2026-03-29 02:00 CET -> 03:00 CEST (01:00Z); 2026-10-25 03:00 CEST -> 02:00 CET (01:00Z).
describe('DST policy, Europe/Berlin 2026', () => {
  const berlin = (expr: string, from: string, to: string): string[] => ticks(expr, 'Europe/Berlin', from, to);

  it('spring forward: a skipped local time fires once, at the first valid time after the gap', () => {
    expect(berlin('30 2 * * *', '2026-03-27T12:00:00Z', '2026-03-30T12:00:00Z')).toEqual([
      '2026-03-28T01:30:00.000Z', // 02:30 CET
      '2026-03-29T01:00:00.000Z', // 02:30 does not exist: 03:00 CEST
      '2026-03-30T00:30:00.000Z', // 02:30 CEST
    ]);
  });

  it('spring forward: times outside the gap are unaffected, times inside it merge into one fire', () => {
    expect(berlin('0,30 * * * *', '2026-03-29T00:00:00Z', '2026-03-29T02:00:00Z')).toEqual([
      '2026-03-29T00:30:00.000Z', // 01:30 CET
      '2026-03-29T01:00:00.000Z', // 02:00, 02:30 (skipped) and 03:00 CEST: one fire
      '2026-03-29T01:30:00.000Z', // 03:30 CEST
      '2026-03-29T02:00:00.000Z', // 04:00 CEST
    ]);
    expect(berlin('0 3 * * *', '2026-03-28T12:00:00Z', '2026-03-29T12:00:00Z')).toEqual(['2026-03-29T01:00:00.000Z']);
  });

  it('fall back: a repeated local time fires once, at its first occurrence', () => {
    expect(berlin('30 2 * * *', '2026-10-23T12:00:00Z', '2026-10-26T12:00:00Z')).toEqual([
      '2026-10-24T00:30:00.000Z', // 02:30 CEST
      '2026-10-25T00:30:00.000Z', // 02:30 CEST; 02:30 CET (01:30Z) does not fire again
      '2026-10-26T01:30:00.000Z', // 02:30 CET
    ]);
  });

  it('fall back: an hourly schedule fires once per local hour', () => {
    expect(berlin('0 * * * *', '2026-10-24T23:30:00Z', '2026-10-25T03:30:00Z')).toEqual([
      '2026-10-25T00:00:00.000Z', // 02:00 CEST
      // 01:00Z is 02:00 CET, a repeat: no fire
      '2026-10-25T02:00:00.000Z', // 03:00 CET
      '2026-10-25T03:00:00.000Z', // 04:00 CET
    ]);
  });

  it('fall back: a search starting inside the repeated hour skips what the first pass fired', () => {
    const s = parseSchedule('*/15 * * * *', 'Europe/Berlin');
    expect(iso(nextFireAfter(s, at('2026-10-25T01:10:00Z')) ?? 0)).toBe('2026-10-25T02:00:00.000Z'); // 02:10 CET -> 03:00 CET
    // 02:50 CEST -> the wall times 02:00..02:45 come again in CET (repeats), so 03:00 CET.
    expect(iso(nextFireAfter(s, at('2026-10-25T00:50:00Z')) ?? 0)).toBe('2026-10-25T02:00:00.000Z');
  });

  it('fires once per intended local time across both transitions (daily, one year)', () => {
    const list = berlin('30 2 * * *', '2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z');
    expect(list).toHaveLength(365);
    expect(new Set(list).size).toBe(365);
  });

  it('@every ignores DST', () => {
    expect(berlin('@every 30m', '2026-10-25T00:00:00Z', '2026-10-25T02:00:00Z')).toHaveLength(4);
  });
});
