import { parseSchedule, type Schedule, ScheduleError } from '@weft/core';
import { resolveWallTime, wallTime } from './zoned-time.util';

/**
 * When a trigger schedule fires (parsed by @weft/core's parseSchedule). DST policy: a pattern is
 * matched against local wall time; a wall time in a gap (clocks go forward) fires once, at the
 * first valid instant after the gap; a wall time that occurs twice (clocks go back) fires once,
 * at its first occurrence; intended times that land on the same instant fire once. `@every`
 * counts elapsed time from the Unix epoch and ignores the zone.
 */

export { parseSchedule, type Schedule, ScheduleError };

/** Bounds one next-fire search (a per-second pattern scans at most an hour of repeated wall time). */
const SEARCH_LIMIT = 10_000;

/** The first fire strictly after `afterMs`, or undefined when the schedule has no more. */
export function nextFireAfter(schedule: Schedule, afterMs: number): number | undefined {
  if (schedule.kind === 'every') return (Math.floor(afterMs / schedule.everyMs) + 1) * schedule.everyMs;
  // Wall times at or before afterMs's own wall time resolve to instants at or before afterMs, so
  // the search starts there; in the second pass of a repeated hour it skips the wall times
  // already fired in the first pass.
  let cursor = wallTime(afterMs, schedule.timeZone);
  for (let i = 0; i < SEARCH_LIMIT; i++) {
    const next = schedule.matcher.nextRun(new Date(cursor));
    if (next === null) return undefined;
    const wall = next.getTime();
    const fire = resolveWallTime(wall, schedule.timeZone);
    if (fire > afterMs) return fire;
    cursor = wall;
  }
  throw new ScheduleError(schedule.expression, `no fire found after ${new Date(afterMs).toISOString()} within ${SEARCH_LIMIT} candidates`);
}

export interface TickList {
  /** Fire instants in ascending order (epoch ms). */
  ticks: number[];
  /** True when `limit` cut the list short: more ticks fall in the range. */
  truncated: boolean;
}

/** The fires in (fromMs, toMs], at most `limit` of them, earliest first. */
export function ticksBetween(schedule: Schedule, fromMs: number, toMs: number, limit: number): TickList {
  const ticks: number[] = [];
  let at = fromMs;
  for (;;) {
    const next = nextFireAfter(schedule, at);
    if (next === undefined || next > toMs) return { ticks, truncated: false };
    if (ticks.length >= limit) return { ticks, truncated: true };
    ticks.push(next);
    at = next;
  }
}

/** The time between the two fires after `afterMs` (a schedule's period there), for "has not fired" alerts. */
export function periodAfter(schedule: Schedule, afterMs: number): number | undefined {
  if (schedule.kind === 'every') return schedule.everyMs;
  const first = nextFireAfter(schedule, afterMs);
  const second = first === undefined ? undefined : nextFireAfter(schedule, first);
  return first === undefined || second === undefined ? undefined : second - first;
}
