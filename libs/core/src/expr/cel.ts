import { Environment } from '@marcbachmann/cel-js';

/**
 * The seam between JSON and CEL. JavaScript numbers reach CEL as doubles and CEL
 * has no mixed int/double arithmetic, so `steps.a.output.x + 1` would fail with
 * "no such overload". We pass integral numbers as CEL ints (BigInt) and register
 * mixed int/double operators, so what users write works either way.
 */

export interface ExprScope {
  inputs: Record<string, unknown>;
  steps: Record<string, { output?: unknown; status: string; attempts?: number; error?: unknown }>;
  run: { id: string; workflow: string };
}

/** Variables every expression may use; anything else is an unknown reference. */
export const SCOPE_VARIABLES = ['inputs', 'steps', 'run'] as const;

const MIXED_OPS = ['+', '-', '*', '/'] as const;

function arith(op: (typeof MIXED_OPS)[number], a: number, b: number): number {
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      return a / b;
  }
}

function buildEnvironment(): Environment {
  let env = new Environment({ unlistedVariablesAreDyn: false, homogeneousAggregateLiterals: false });
  for (const name of SCOPE_VARIABLES) env = env.registerVariable(name, 'map');
  for (const op of MIXED_OPS) {
    env = env
      .registerOperator(`double ${op} int`, (a: number, b: bigint) => arith(op, a, Number(b)))
      .registerOperator(`int ${op} double`, (a: bigint, b: number) => arith(op, Number(a), b));
  }
  // Comparisons across int and double already work (CEL's heterogeneous comparison).
  return env;
}

let shared: Environment | undefined;
export function celEnvironment(): Environment {
  shared ??= buildEnvironment();
  return shared;
}

/** JSON value -> CEL value: integral numbers become ints. */
export function toCel(value: unknown): unknown {
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value) : value;
  if (Array.isArray(value)) return value.map(toCel);
  if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array) && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = toCel(v);
    return out;
  }
  return value;
}

/** CEL value -> JSON value: ints become numbers (strings when beyond 2^53), maps become objects. */
export function fromCel(value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(value) : value.toString();
  }
  if (Array.isArray(value)) return value.map(fromCel);
  if (value instanceof Map) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of value) out[String(k)] = fromCel(v);
    return out;
  }
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = fromCel(v);
    return out;
  }
  return value;
}
