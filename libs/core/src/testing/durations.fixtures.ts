/** Durations as a spec writes them, and their milliseconds (duration.util and the planner read them alike). */
export const DURATIONS: readonly [string, number][] = [
  ['500ms', 500],
  ['30s', 30_000],
  ['5m', 300_000],
  ['2h', 7_200_000],
  ['1d', 86_400_000],
  ['1h30m', 5_400_000],
];
