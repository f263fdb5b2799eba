import { z } from 'zod';

/**
 * Query strings of the HTTP API as the journal and analytics read them. On the wire every
 * value is a string (a repeated key arrives as an array of strings) and an empty value
 * counts as absent. The schemas describe that wire form, with no transforms, so the OpenAPI
 * document shows what a client sends; each service then turns the validated strings into
 * its own query (times against its clock, numbers). Unknown parameters are refused, as on
 * every route of the API (issue 12); every value is at most MAX_QUERY_VALUE characters.
 */

/** Longest query value (ids, names, cursors, times). */
export const MAX_QUERY_VALUE = 500;
/** How far back a duration may reach: 100 years, in ms (further would leave Date's range or be meaningless). */
export const MAX_QUERY_LOOKBACK_MS = 36_500 * 86_400_000;

const quoted = (input: unknown): string => JSON.stringify(input) ?? String(input);

/** A parameter given at most once. */
export const QueryValue = z
  .string({ error: (issue) => (Array.isArray(issue.input) ? 'give it once' : typeof issue.input === 'string' ? undefined : 'expected a single value') })
  .max(MAX_QUERY_VALUE);

const DURATION = /^(?:\d+(?:ms|s|m|h|d))+$/;
const TIME_OR_DURATION = /^(?:\d+(?:ms|s|m|h|d))+$|^\d{4}-\d{2}-\d{2}/;
const timeMessage = (issue: { input?: unknown }): string =>
  typeof issue.input === 'string' && DURATION.test(issue.input)
    ? `expected a duration of at most 36500d (got ${quoted(issue.input)})`
    : `expected an ISO 8601 time or a duration such as 24h (got ${quoted(issue.input)})`;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration's milliseconds when within MAX_QUERY_LOOKBACK_MS (and Number's safe range), else undefined. */
function boundedDurationMs(text: string): number | undefined {
  let total = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+)(ms|s|m|h|d)/g)) total += Number(amount) * UNIT_MS[unit];
  return Number.isSafeInteger(total) && total <= MAX_QUERY_LOOKBACK_MS ? total : undefined;
}

/** An ISO 8601 time, or a duration (`24h`, `1h30m`) counted back from now. */
export const queryTime = (description: string): z.ZodString =>
  QueryValue.regex(TIME_OR_DURATION, { error: timeMessage })
    .refine((text) => (DURATION.test(text) ? boundedDurationMs(text) !== undefined : !Number.isNaN(Date.parse(text))), { error: timeMessage })
    .describe(description);

/** A non-negative integer of at most `maxDigits` digits (ranges are the route's to check). */
export const queryInteger = (maxDigits: number, description: string): z.ZodString =>
  QueryValue.regex(new RegExp(`^\\d{1,${maxDigits}}$`), { error: (issue) => `expected an integer (got ${quoted(issue.input)})` }).describe(description);

/** One of `values`. */
export const queryEnum = <const T extends readonly [string, ...string[]]>(values: T, description: string) =>
  z
    .enum(values, { error: (issue) => (Array.isArray(issue.input) ? 'give it once' : `expected ${values.join(' or ')} (got ${quoted(issue.input)})`) })
    .describe(description);

/** Values of a list parameter: repeated and/or comma-separated, trimmed, empty ones dropped. */
export function listValues(value: string | readonly string[] | undefined): string[] {
  const parts = value === undefined ? [] : typeof value === 'string' ? [value] : value;
  return parts.flatMap((p) => p.split(',')).map((p) => p.trim()).filter(Boolean);
}

/** A list parameter (`type=a,b&type=c`) whose values are all among `values`. */
export const queryList = (values: readonly string[], noun: string, description: string) =>
  z
    .union([z.string(), z.array(z.string())], { error: 'expected one or more values, comma-separated or repeated' })
    .superRefine((value, ctx) => {
      const known = new Set(values);
      const unknown = listValues(value).filter((v) => !known.has(v));
      if (unknown.length > 0) ctx.addIssue({ code: 'custom', message: `unknown ${noun}(s) ${unknown.join(', ')}; expected one of ${values.join(', ')}` });
    })
    .describe(description);

/**
 * The query string `raw` (as Nest hands it over) checked against `schema`: the typed wire
 * values, empty ones left out. The first problem throws `invalid('<parameter>: <what is wrong>')`,
 * the service's own error, as the services' hand-written readers did.
 */
export function parseQuery<T extends z.ZodObject>(schema: T, raw: Readonly<Record<string, unknown>>, invalid: (message: string) => Error): z.output<T> {
  const given = Object.fromEntries(Object.entries(raw).filter(([, value]) => value !== undefined && value !== ''));
  const unknown = Object.keys(given).find((name) => !Object.hasOwn(schema.shape, name));
  if (unknown !== undefined) throw invalid(`query: Unrecognized key: ${JSON.stringify(unknown.slice(0, 100))}`);
  const result = schema.safeParse(given);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const name = issue?.path[0];
  throw invalid(`${name === undefined ? 'query' : String(name)}: ${issue?.message ?? 'invalid'}`);
}
