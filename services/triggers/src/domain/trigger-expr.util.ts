import { WeftError, type WeftErrorOptions } from '@weft/contracts';
import { renderTriggerValue } from '@weft/core';

/**
 * A trigger's expressions, evaluated in the trigger dialect of CEL (variables trigger, event,
 * item, response, cursor) under the core's expression budget.
 */

export class TriggerExpressionError extends WeftError<'TRIGGER_EXPRESSION'> {
  constructor(
    readonly field: string,
    message: string,
    options?: WeftErrorOptions,
  ) {
    super('TRIGGER_EXPRESSION', message, options);
  }
}

/** Most items one poll response may start; more are an error of the trigger, not a flood of runs. */
export const MAX_ITEMS_PER_POLL = 1_000;
/** Longest dedupe or item key. */
export const MAX_KEY_LENGTH = 512;

export interface OccurrenceExpressions {
  filter?: string;
  dedupe?: string;
  inputs?: Record<string, unknown>;
}

export type OccurrenceVerdict =
  | { passed: false }
  | { passed: true; dedupeKey: string | undefined; inputs: Record<string, unknown> };

/** Filter, dedupe key and inputs of one occurrence. Throws TriggerExpressionError (the occurrence is `failed`). */
export function evaluateOccurrence(exprs: OccurrenceExpressions, context: Record<string, unknown>): OccurrenceVerdict {
  if (exprs.filter !== undefined) {
    const passed = render('filter', exprs.filter, context);
    if (typeof passed !== 'boolean') throw new TriggerExpressionError('filter', `filter must be a bool, got ${describe(passed)}`);
    if (!passed) return { passed: false };
  }
  const dedupeKey = exprs.dedupe === undefined ? undefined : keyOf('dedupe', render('dedupe', exprs.dedupe, context));
  const inputs = exprs.inputs === undefined ? {} : render('inputs', exprs.inputs, context);
  if (inputs === null || typeof inputs !== 'object' || Array.isArray(inputs)) throw new TriggerExpressionError('inputs', `inputs must be an object, got ${describe(inputs)}`);
  return { passed: true, dedupeKey, inputs: inputs as Record<string, unknown> };
}

export interface PollExpressions {
  items: string;
  key: string;
  cursor?: string;
}

export interface PollPage {
  items: { key: string; item: unknown }[];
  /** The cursor for the next poll; undefined keeps the current one. */
  cursor: unknown;
}

/** Items, their keys and the next cursor of one poll response (`response` = {status, headers, body}). */
export function extractPollPage(exprs: PollExpressions, response: unknown, cursor: unknown): PollPage {
  const items = render('items', exprs.items, { response, cursor });
  if (!Array.isArray(items)) throw new TriggerExpressionError('items', `items must be a list, got ${describe(items)}`);
  if (items.length > MAX_ITEMS_PER_POLL) throw new TriggerExpressionError('items', `a response has ${items.length} items; at most ${MAX_ITEMS_PER_POLL} are read per poll`);
  const keyed = items.map((item: unknown) => ({ key: keyOf('key', render('key', exprs.key, { response, item, cursor })), item }));
  const next = exprs.cursor === undefined ? undefined : render('cursor', exprs.cursor, { response, cursor });
  return { items: keyed, cursor: next === null ? undefined : next };
}

/** Renders a template string (the poll URL) with the current cursor. */
export function renderPollUrl(url: string, cursor: unknown): string {
  const value = render('url', url, { cursor: cursor ?? '' });
  if (typeof value !== 'string') throw new TriggerExpressionError('url', `url must render to a string, got ${describe(value)}`);
  return value;
}

function render(field: string, value: unknown, context: Record<string, unknown>): unknown {
  try {
    return renderTriggerValue(value, context);
  } catch (cause) {
    throw new TriggerExpressionError(field, `${field}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

function keyOf(field: string, value: unknown): string {
  if (typeof value === 'string' && value.length > 0) {
    if (value.length > MAX_KEY_LENGTH) throw new TriggerExpressionError(field, `${field} is ${value.length} characters; at most ${MAX_KEY_LENGTH}`);
    return value;
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new TriggerExpressionError(field, `${field} must be a non-empty string or a number, got ${describe(value)}`);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)}`.slice(0, 60);
}
