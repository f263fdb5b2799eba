import { parseDurationMs } from './duration.util';

describe('parseDurationMs', () => {
  it.each([
    ['500ms', 500],
    ['2s', 2000],
    ['1m', 60_000],
    ['1h30m', 5_400_000],
    ['1d', 86_400_000],
    [250, 250],
    [0, 0],
  ])('%p -> %p ms', (input, expected) => {
    expect(parseDurationMs(input)).toBe(expected);
  });

  it.each(['', '2', 'soon', '1.5s', '-1s', ' 2s', -5, Number.NaN, Infinity, null, undefined, {}])('rejects %p', (input) => {
    expect(parseDurationMs(input)).toBeUndefined();
  });
});
