import { nextFireAfter, type Schedule, ticksBetween } from './schedule.util';

/**
 * Which ticks of a schedule are due, and which of them fire. Ticks that came due while this
 * process was leading (after `leadingSinceMs`) always fire, however late the loop got to them;
 * ticks that came due before (downtime, a leader change) fire when they are at most `catchupMs`
 * old, and are recorded as missed otherwise.
 */
export interface DuePlanInput {
  schedule: Schedule;
  /** The last tick already handled (fired, skipped or missed); ticks after it are considered. */
  afterMs: number;
  nowMs: number;
  /** Catch-up window; 0 fires no tick that came due while nobody was leading. */
  catchupMs: number;
  /** When this process became the leader (the start of its continuous watch). */
  leadingSinceMs: number;
  /** Most ticks returned in each list (a week of `@every 1s` downtime is not a week of rows). */
  limit: number;
}

export interface DuePlan {
  /** Ticks to fire, earliest first. */
  fire: number[];
  /** Ticks to record as missed, earliest first (at most `limit`). */
  missed: number[];
  /** More missed ticks than `limit`: the rest are not listed (counted in `missedUnlisted` when known). */
  missedUnlisted: number;
  /** The last tick this plan covers: the next plan starts after it. */
  handledUntilMs: number;
}

export function planDueTicks(input: DuePlanInput): DuePlan {
  const { schedule, afterMs, nowMs, catchupMs, leadingSinceMs, limit } = input;
  // Ticks at or after this fire; older ones are missed.
  const fireFrom = Math.min(nowMs - catchupMs, leadingSinceMs + 1);
  const missedList = ticksBetween(schedule, afterMs, fireFrom - 1, limit);
  let missedUnlisted = 0;
  let lastMissed = missedList.ticks.at(-1) ?? afterMs;
  if (missedList.truncated) {
    // Count the rest cheaply for @every; for cron patterns stop counting at a bound.
    const rest = countTicks(schedule, lastMissed, fireFrom - 1, 100_000);
    missedUnlisted = rest.count;
    lastMissed = rest.last ?? lastMissed;
  }
  const fireList = ticksBetween(schedule, Math.max(afterMs, fireFrom - 1), nowMs, Number.MAX_SAFE_INTEGER);
  let fire = fireList.ticks;
  let missed = missedList.ticks;
  if (fire.length > limit) {
    // Too many to start at once: the newest `limit` fire, the older ones count as missed.
    const dropped = fire.slice(0, fire.length - limit);
    fire = fire.slice(fire.length - limit);
    const room = Math.max(0, limit - missed.length);
    missed = missed.concat(dropped.slice(0, room));
    missedUnlisted += dropped.length - Math.min(room, dropped.length);
  }
  const handledUntilMs = fire.at(-1) ?? Math.max(lastMissed, missed.at(-1) ?? afterMs);
  return { fire, missed, missedUnlisted, handledUntilMs };
}

function countTicks(schedule: Schedule, afterMs: number, toMs: number, bound: number): { count: number; last: number | undefined } {
  if (toMs <= afterMs) return { count: 0, last: undefined };
  if (schedule.kind === 'every') {
    const first = Math.floor(afterMs / schedule.everyMs) + 1;
    const lastIndex = Math.floor(toMs / schedule.everyMs);
    return lastIndex < first ? { count: 0, last: undefined } : { count: lastIndex - first + 1, last: lastIndex * schedule.everyMs };
  }
  let count = 0;
  let at = afterMs;
  let last: number | undefined;
  while (count < bound) {
    const next = nextFireAfter(schedule, at);
    if (next === undefined || next > toMs) break;
    count++;
    last = next;
    at = next;
  }
  return { count, last };
}
