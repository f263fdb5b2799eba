import { WeftError } from '@weft/contracts';
import { parseDuration } from './duration.util';
import { Cron } from 'croner';

/**
 * Trigger schedules (the `cron` field of a trigger): cron patterns (5 fields, or 6 with seconds first), the nicknames @hourly, @daily,
 * @weekly, @monthly and @yearly, and `@every <duration>`, in an IANA time zone.
 *
 * DST policy (ours, not the library's): a pattern is matched against local wall time; a wall
 * time that falls in a gap (clocks go forward) fires once, at the first valid instant after the
 * gap; a wall time that occurs twice (clocks go back) fires once, at its first occurrence.
 * Several intended times that land on the same instant fire once. `@every` counts elapsed time
 * from the Unix epoch and ignores the zone, so every replica computes the same ticks.
 * This file parses and checks; the triggers service computes fires (nextFireAfter) with that
 * policy. croner only matches patterns on naive wall times (evaluated in UTC, which has no DST).
 */

export class ScheduleError extends WeftError<'INVALID_SCHEDULE'> {
  constructor(
    readonly expression: string,
    message: string,
  ) {
    super('INVALID_SCHEDULE', message);
  }
}

export const NICKNAMES: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** Shortest `@every` interval: a tick per second is the finest the leader loop serves. */
export const MIN_EVERY_MS = 1_000;
const MAX_EXPRESSION_LENGTH = 200;

export type Schedule =
  | { readonly kind: 'cron'; readonly expression: string; readonly timeZone: string; readonly matcher: Cron }
  | { readonly kind: 'every'; readonly expression: string; readonly everyMs: number };

/** Parses and checks a schedule; throws ScheduleError naming what is wrong. */
export function parseSchedule(expression: string, timeZone = 'UTC'): Schedule {
  const text = typeof expression === 'string' ? expression.trim() : '';
  if (text.length === 0) throw new ScheduleError(String(expression), 'a schedule is empty');
  if (text.length > MAX_EXPRESSION_LENGTH) throw new ScheduleError(text.slice(0, 40), `a schedule is at most ${MAX_EXPRESSION_LENGTH} characters`);
  if (!isValidTimeZone(timeZone)) throw new ScheduleError(text, `unknown time zone "${timeZone}" (expected an IANA name such as Europe/Berlin, or UTC)`);
  const every = /^@every\s+(\S+)$/.exec(text);
  if (every) {
    let everyMs: number;
    try {
      everyMs = parseDuration(every[1]);
    } catch (error) {
      throw new ScheduleError(text, `"${text}": ${error instanceof Error ? error.message : String(error)}`);
    }
    if (everyMs < MIN_EVERY_MS) throw new ScheduleError(text, `"${text}" is shorter than the shortest interval, 1s`);
    return { kind: 'every', expression: text, everyMs };
  }
  let pattern = text;
  if (text.startsWith('@')) {
    const nick = NICKNAMES[text.toLowerCase()];
    if (nick === undefined) throw new ScheduleError(text, `unknown schedule "${text}" (expected @hourly, @daily, @weekly, @monthly, @yearly or @every <duration>)`);
    pattern = nick;
  }
  const fields = pattern.split(/\s+/).length;
  if (fields !== 5 && fields !== 6) throw new ScheduleError(text, `"${text}" has ${fields} fields; a cron pattern has 5 (minute hour day month weekday) or 6 (seconds first)`);
  let matcher: Cron;
  try {
    matcher = new Cron(pattern, { mode: '5-or-6-parts', utcOffset: 0, paused: true });
  } catch (error) {
    const message = (error instanceof Error ? error.message : String(error)).replace(/^CronPattern:\s*/, '');
    throw new ScheduleError(text, `"${text}": ${message}`);
  }
  // A pattern such as "0 0 30 2 *" parses but never matches.
  if (matcher.nextRun(new Date(Date.UTC(2000, 0, 1))) === null) throw new ScheduleError(text, `"${text}" never fires`);
  return { kind: 'cron', expression: text, timeZone, matcher };
}


/** True for a zone name the platform knows (IANA names such as Europe/Berlin, and UTC). */
export function isValidTimeZone(timeZone: string): boolean {
  if (typeof timeZone !== 'string' || timeZone.length === 0 || timeZone.length > 64) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}
