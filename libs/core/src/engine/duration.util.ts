/**
 * Durations as the spec writes them (`500ms`, `30s`, `5m`, `2h`, `1d`, `1h30m`).
 * Kept private to the engine: the spec module owns the public parser.
 */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const WHOLE = /^(\d+(ms|s|m|h|d))+$/;
const PART = /(\d+)(ms|s|m|h|d)/g;

/** Milliseconds of a duration string, or undefined when it is not one. */
export function durationMs(text: string): number | undefined {
  if (!WHOLE.test(text)) return undefined;
  let total = 0;
  for (const [, digits, unit] of text.matchAll(PART)) total += Number(digits) * (UNIT_MS[unit ?? ''] ?? 0);
  return total;
}
