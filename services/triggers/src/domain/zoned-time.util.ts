/**
 * Wall-clock arithmetic in an IANA time zone, from the platform's Intl data. A "wall" time is
 * the local date and time written as if it were UTC (a naive timestamp in ms), so that cron
 * patterns can be matched on it without any zone rules.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();
const FORMATTER_LIMIT = 1_000;

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    if (formatters.size >= FORMATTER_LIMIT) formatters.clear();
    formatters.set(timeZone, f);
  }
  return f;
}

/** The local wall time of `instantMs` in `timeZone` (naive ms, whole seconds; ms carried over). */
export function wallTime(instantMs: number, timeZone: string): number {
  const parts = formatter(timeZone).formatToParts(new Date(instantMs));
  const get = (type: Intl.DateTimeFormatPartTypes): number => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const ms = ((instantMs % 1000) + 1000) % 1000;
  return Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'), ms);
}

/** The zone's offset from UTC at `instantMs`, in ms (Europe/Berlin in summer: 7_200_000). */
export function zoneOffset(instantMs: number, timeZone: string): number {
  return wallTime(instantMs, timeZone) - instantMs;
}

const DAY_MS = 86_400_000;

/**
 * The instants whose local wall time is `wallMs`: one normally, two when clocks go back
 * (earliest first), none when the wall time falls in a gap (clocks go forward).
 */
export function instantsAt(wallMs: number, timeZone: string): number[] {
  const offsets = new Set([zoneOffset(wallMs - DAY_MS, timeZone), zoneOffset(wallMs, timeZone), zoneOffset(wallMs + DAY_MS, timeZone)]);
  const found = new Set<number>();
  for (const offset of offsets) {
    const candidate = wallMs - offset;
    if (wallTime(candidate, timeZone) === wallMs) found.add(candidate);
  }
  return [...found].sort((a, b) => a - b);
}

/**
 * The instant a wall time stands for under the fire policy: the first of its instants when it
 * occurs twice; for a wall time in a gap, the first instant after the gap (the transition).
 */
export function resolveWallTime(wallMs: number, timeZone: string): number {
  const instants = instantsAt(wallMs, timeZone);
  if (instants.length > 0) return instants[0];
  // In a gap: the transition lies between the instants this wall time would have under the
  // offsets either side; find the first instant whose wall time is past it.
  const before = zoneOffset(wallMs - DAY_MS, timeZone);
  const after = zoneOffset(wallMs + DAY_MS, timeZone);
  let lo = wallMs - Math.max(before, after);
  let hi = wallMs - Math.min(before, after);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (wallTime(mid, timeZone) > wallMs) hi = mid;
    else lo = mid;
  }
  return hi;
}
