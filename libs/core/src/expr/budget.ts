import { RE2JS } from 're2js';

/**
 * What one evaluation may spend. The scheduler evaluates `if`, `with`, transforms and outputs
 * on its event loop, so a hostile or careless expression must not hold it: a regex that
 * backtracks, comprehensions nested over large lists, or strings doubled by `cel.bind`.
 * Costs are counted in units (about 50 ns each on a current x86 core): deterministic, so the
 * same expression over the same data always passes or always fails. docs/spec.md lists them.
 */
export const EXPRESSION_LIMITS = {
  /** Units one evaluation (one `if`, one `with`, one transform, the outputs) may spend: about 5 ms. */
  cost: 100_000,
  /** Longest string an operator or function may build, in UTF-16 units (1 MiB of ASCII). */
  maxStringLength: 1 << 20,
  /** Most elements of a list or entries of a map an operator or function may build. */
  maxCollectionSize: 100_000,
  /** Deepest nesting of comprehensions (all, exists, exists_one, map, filter), checked at registration. */
  maxComprehensionDepth: 3,
  /** Longest regular expression `matches` accepts, in characters. */
  maxRegexLength: 1_000,
  /** Parse-time limits handed to cel-js. */
  maxAstNodes: 10_000,
  maxAstDepth: 100,
} as const;

export const EXPRESSION_BUDGET_CODE = 'EXPRESSION_BUDGET';

/** An expression spent more than EXPRESSION_LIMITS allow; never retried (the same input costs the same). */
export class ExpressionBudgetError extends Error {
  readonly code = EXPRESSION_BUDGET_CODE;
  constructor(
    readonly expression: string,
    message: string,
  ) {
    super(message);
    this.name = 'ExpressionBudgetError';
  }
}

/**
 * Spends units of one evaluation. Once over, every further node throws the same error
 * object at once (cel-js's `all`/`exists` swallow errors per element and go on iterating,
 * so each remaining element must cost a throw, not a new Error with a stack).
 */
export class Meter {
  private spent = 0;
  private exceeded: Error | undefined;

  constructor(private readonly limit: number = EXPRESSION_LIMITS.cost) {}

  get over(): string | undefined {
    return this.exceeded?.message;
  }

  spend(units: number): void {
    if (this.exceeded) throw this.exceeded;
    this.spent += units;
    if (this.spent > this.limit) this.fail(`spent more than ${this.limit} cost units`);
  }

  fail(reason: string): never {
    this.exceeded ??= new Error(reason);
    throw this.exceeded;
  }

  /** Charges a value an operator or function built, and refuses one past the size limits. */
  built(value: unknown): void {
    if (typeof value === 'string') {
      if (value.length > EXPRESSION_LIMITS.maxStringLength) this.fail(`built a string of ${value.length} characters (limit ${EXPRESSION_LIMITS.maxStringLength})`);
      this.spend(value.length >> 6);
    } else if (Array.isArray(value)) {
      if (value.length > EXPRESSION_LIMITS.maxCollectionSize) this.fail(`built a list of ${value.length} elements (limit ${EXPRESSION_LIMITS.maxCollectionSize})`);
      this.spend(value.length >> 4);
    } else if (value instanceof Map) {
      if (value.size > EXPRESSION_LIMITS.maxCollectionSize) this.fail(`built a map of ${value.size} entries (limit ${EXPRESSION_LIMITS.maxCollectionSize})`);
      this.spend(value.size >> 2);
    }
  }
}

/** Elements a comparison or `in` walks through (shallow). */
export function sizeOf(value: unknown): number {
  if (typeof value === 'string') return value.length >> 6;
  if (Array.isArray(value)) return value.length;
  if (value instanceof Map || value instanceof Set) return value.size;
  if (value instanceof Uint8Array) return value.length >> 6;
  if (value !== null && typeof value === 'object') return Object.keys(value).length;
  return 0;
}

const regexCache = new Map<string, RE2JS>();
const REGEX_CACHE_LIMIT = 1_000;

/** Thrown for a pattern RE2 rejects (backreferences, lookaround, bad syntax). */
export class InvalidRegexError extends Error {
  readonly code = 'INVALID_REGEX';
  constructor(
    readonly pattern: string,
    reason: string,
  ) {
    super(`invalid regular expression ${JSON.stringify(pattern.length > 60 ? `${pattern.slice(0, 57)}...` : pattern)}: ${reason}`);
    this.name = 'InvalidRegexError';
  }
}

/** Compiles with RE2 semantics (linear time, no backreferences or lookaround), as CEL specifies. */
export function compileRegex(pattern: string): RE2JS {
  let re = regexCache.get(pattern);
  if (re) return re;
  if (pattern.length > EXPRESSION_LIMITS.maxRegexLength) throw new InvalidRegexError(pattern, `longer than ${EXPRESSION_LIMITS.maxRegexLength} characters`);
  try {
    re = RE2JS.compile(pattern);
  } catch (cause) {
    throw new InvalidRegexError(pattern, (cause instanceof Error ? cause.message : String(cause)).replace(/^error parsing regexp: /, ''));
  }
  if (regexCache.size >= REGEX_CACHE_LIMIT) regexCache.clear();
  regexCache.set(pattern, re);
  return re;
}

/** CEL `matches`: an unanchored RE2 search, charged by the text it scans. */
export function matchesRegex(meter: Meter | undefined, text: string, pattern: string): boolean {
  const re = compileRegex(pattern);
  meter?.spend(1 + (text.length >> 2) + (pattern.length >> 2));
  return re.test(text);
}
