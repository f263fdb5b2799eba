import { WeftError, type WeftErrorOptions } from '@weft/contracts';
import { celEnvironment, type ExprScope, fromCel, toCel } from './cel';
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

function compile(source: string): Compiled {
  let fn = cache.get(source);
  if (!fn) {
    try {
      fn = celEnvironment().parse(source) as unknown as Compiled;
    } catch (cause) {
      throw new ExpressionError(source, `cannot parse "${source}": ${messageOf(cause)}`, { cause });
    }
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(source, fn);
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
  return evaluateIn(source, context);
}

function evaluateIn(source: string, context: Record<string, unknown>): unknown {
  const fn = compile(source);
  try {
    return fromCel(fn(context));
  } catch (cause) {
    throw new ExpressionError(source, `"${source}": ${messageOf(cause)}`, { cause });
  }
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
  return renderIn(value, context);
}

function renderIn(value: unknown, context: Record<string, unknown>): unknown {
  if (typeof value === 'string') {
    if (!hasTemplate(value)) return value;
    const whole = wholeExpression(value);
    if (whole !== undefined) return evaluateIn(whole, context);
    return parseTemplate(value)
      .map((part) => (part.kind === 'text' ? part.text : stringify(evaluateIn(part.source, context))))
      .join('');
  }
  if (Array.isArray(value)) return value.map((v) => renderIn(v, context));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = renderIn(v, context);
    return out;
  }
  return value;
}

function stringify(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}
