import fc from 'fast-check';
import { DurationError, formatDuration, parseDuration } from './duration.util';
import { DURATIONS } from '../testing';

describe('parseDuration', () => {
  it.each([
    ...DURATIONS,
    ['1m1ms', 60_001],
    ['0s', 0],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '30', 's', '30 s', '1.5s', '-1s', '1w', '1h 30m'])('rejects %j with a DurationError', (text) => {
    expect(() => parseDuration(text)).toThrow(DurationError);
    expect(() => parseDuration(text)).toThrow(expect.objectContaining({ code: 'INVALID_DURATION', text }));
  });

  it('rejects durations beyond safe integers', () => {
    expect(() => parseDuration('99999999999999999d')).toThrow(/too long/);
  });
});

describe('formatDuration', () => {
  it('writes the shortest form', () => {
    expect(formatDuration(0)).toBe('0ms');
    expect(formatDuration(90_000)).toBe('1m30s');
    expect(formatDuration(1_500)).toBe('1s500ms');
    expect(formatDuration(90_061_001)).toBe('1d1h1m1s1ms');
    expect(formatDuration(1.6)).toBe('2ms');
    expect(formatDuration(-2_000)).toBe('-2s');
    expect(() => formatDuration(Number.NaN)).toThrow(DurationError);
  });

  it('round-trips through parseDuration', () => {
    fc.assert(fc.property(fc.nat({ max: Number.MAX_SAFE_INTEGER }), (ms) => expect(parseDuration(formatDuration(ms))).toBe(ms)));
  });
});
