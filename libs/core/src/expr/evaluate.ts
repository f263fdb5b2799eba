import { WeftError, type WeftErrorOptions } from '@weft/contracts';
import { ExpressionBudgetError, Meter } from './budget';
import { celEnvironment, type ExprDialect, type ExprScope, fromCel, toCel, withMeter } from './cel';
import { takeReadFailure } from './lazy-record';
import { hasTemplate, parseTemplate, unwrapExpression, wholeExpression } from './template';

export class ExpressionError extends WeftError<'EXPRESSION_ERROR'> {
  constructor(
    readonly expression: string,
    message: string,
    options?: WeftErrorOptions,
  ) {
    super('EXPRESSION_ERROR', message, options);
  }
}

type Compiled = (context: Record<string, unknown>) => unknown;
const cache = new Map<string, Compiled>();
const CACHE_LIMIT = 10_000;

function compile(source: string, dialect: ExprDialect): Compiled {
  const key = dialect === 'workflow' ? source : `${dialect}\0${source}`;
  let fn = cache.get(key);
  if (!fn) {
    try {
      celEnvironment(dialect).parse(source);
      // cel-js evaluates the root node directly and every other node through the metered
      // evaluator: wrapping the expression in dyn() puts the user's root under the meter too.
      fn = celEnvironment(dialect).parse(`dyn(\n${source}\n)`) as unknown as Compiled;
    } catch (cause) {
      throw new ExpressionError(source, `cannot parse "${source}": ${messageOf(cause)}`, { cause });
    }
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(key, fn);
  }
  return fn;
}

function messageOf(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}

/** Converts a scope once so that many expressions can be evaluated against it. */
export function celContext(scope: ExprScope): Record<string, unknown> {
  return { inputs: toCel(scope.inputs), steps: toCel(scope.steps), run: toCel(scope.run) };
}

/** Evaluates one CEL expression (no `${{ }}`); returns a JSON value. */
export function evaluateExpression(source: string, scope: ExprScope | Record<string, unknown>): unknown {
  const context = 'inputs' in scope && 'steps' in scope && 'run' in scope ? celContext(scope as ExprScope) : scope;
  return evaluateIn(source, context, new Meter());
}

/**
 * Trigger expressions (filter, dedupe, inputs, poll items/key/cursor): `context` holds JSON
 * values of TRIGGER_VARIABLES. Renders every `${{ }}` of `value` like renderValue, within one budget.
 */
export function renderTriggerValue(value: unknown, context: Record<string, unknown>): unknown {
  const cel: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(context)) cel[k] = toCel(v);
  return renderIn(value, cel, new Meter(), 'trigger');
}

/** `meter` is shared by every expression of one rendering: the budget bounds the whole `with`, not each string. */
function evaluateIn(source: string, context: Record<string, unknown>, meter: Meter, dialect: ExprDialect = 'workflow'): unknown {
  const fn = compile(source, dialect);
  let value: unknown;
  takeReadFailure();
  try {
    value = withMeter(meter, () => fn(context));
  } catch (cause) {
    const failed = takeReadFailure();
    if (failed !== undefined) throw failed.error;
    if (meter.over !== undefined) throw budgetError(source, meter.over);
    throw new ExpressionError(source, `"${source}": ${messageOf(cause)}`, { cause });
  }
  // A lazy scope's read that failed is the decision's error, not the expression's, even if cel-js swallowed it.
  const failed = takeReadFailure();
  if (failed !== undefined) throw failed.error;
  // cel-js's `||`, `&&`, `all` and `exists` may swallow the meter's error: an overspent evaluation fails whatever it returned.
  if (meter.over !== undefined) throw budgetError(source, meter.over);
  return fromCel(value);
}

function budgetError(source: string, reason: string): ExpressionBudgetError {
  const shown = source.length > 80 ? `${source.slice(0, 77)}...` : source;
  return new ExpressionBudgetError(source, `"${shown}" exceeded the expression budget: ${reason} (limits in docs/spec.md, "Expression limits")`);
}

/** An `if` condition: bare CEL or `${{ }}`; must yield a bool. */
export function evaluateCondition(condition: string, scope: ExprScope): boolean {
  const source = unwrapExpression(condition);
  const value = evaluateExpression(source, scope);
  if (typeof value !== 'boolean') {
    throw new ExpressionError(source, `condition "${source}" must be a bool, got ${value === null ? 'null' : typeof value}`);
  }
  return value;
}

/**
 * Renders every `${{ }}` inside a JSON value (objects and arrays recursively).
 * A string that is exactly one expression becomes that expression's value.
 */
export function renderValue(value: unknown, scope: ExprScope): unknown {
  const context = celContext(scope);
  return renderIn(value, context, new Meter());
}

function renderIn(value: unknown, context: Record<string, unknown>, meter: Meter, dialect: ExprDialect = 'workflow'): unknown {
  if (typeof value === 'string') {
    if (!hasTemplate(value)) return value;
    const whole = wholeExpression(value);
    if (whole !== undefined) return evaluateIn(whole, context, meter, dialect);
    return parseTemplate(value)
      .map((part) => (part.kind === 'text' ? part.text : stringify(evaluateIn(part.source, context, meter, dialect))))
      .join('');
  }
  if (Array.isArray(value)) return value.map((v) => renderIn(v, context, meter, dialect));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = renderIn(v, context, meter, dialect);
    return out;
  }
  return value;
}

function stringify(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}
