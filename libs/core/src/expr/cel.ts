import { Environment } from '@marcbachmann/cel-js';
import { EXPRESSION_LIMITS, matchesRegex, type Meter, sizeOf } from './budget';
import { mapLazyRecord } from './lazy-record';

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

/** Variables of a trigger's filter, dedupe, inputs and poll expressions (docs/triggers.md). */
export const TRIGGER_VARIABLES = ['trigger', 'event', 'item', 'response', 'cursor'] as const;

/** Variables of a workflow's `concurrency.key`: it is rendered before the run starts, from its inputs alone. */
export const ADMISSION_VARIABLES = ['inputs'] as const;

/** Which variables an expression may read: a workflow's (SCOPE_VARIABLES), a trigger's (TRIGGER_VARIABLES), a run admission key's (ADMISSION_VARIABLES). */
export type ExprDialect = 'workflow' | 'trigger' | 'admission';

const DIALECT_VARIABLES: Record<ExprDialect, readonly string[]> = { workflow: SCOPE_VARIABLES, trigger: TRIGGER_VARIABLES, admission: ADMISSION_VARIABLES };

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

/** The parts of a cel-js AST node and evaluator the meter relies on (cel-js 8 internals, pinned by tests). */
interface EvalNode {
  op: string;
  args: unknown;
  left?: EvalNode;
  right?: EvalNode;
  receiverWithArgs?: EvalNode[];
  handle?: (...args: unknown[]) => unknown;
}
interface Evaluator {
  run(node: EvalNode, ctx: unknown): unknown;
}

let activeMeter: Meter | undefined;

/** Runs `fn` with every node it evaluates charged to `meter` (evaluation is synchronous). */
export function withMeter<T>(meter: Meter, fn: () => T): T {
  const outer = activeMeter;
  activeMeter = meter;
  try {
    return fn();
  } finally {
    activeMeter = outer;
  }
}

/** Operators and calls whose result is a new value (charged by its size); reads and the accumulators of comprehensions are not. */
const BUILDS = new Set(['+', '*', 'call', 'rcall']);
/** Operators that walk through both operands. */
const COMPARES = new Set(['in', '==', '!=']);
/** Methods that scan their receiver; `matches` is also replaced by RE2. */
const SCANS = new Set(['matches', 'contains', 'startsWith', 'endsWith', 'indexOf', 'lastIndexOf']);

/**
 * Every node cel-js evaluates goes through `evaluator.run`, comprehension steps included; wrapping
 * it on our environment's own evaluator charges each node to the active meter. The evaluator is
 * private to the Environment, so a function registered for this reaches it as `this` once.
 */
function meterEvaluator(ev: Evaluator): void {
  const plain = ev.run;
  ev.run = function metered(this: Evaluator, node: EvalNode, ctx: unknown): unknown {
    const meter = activeMeter;
    if (meter === undefined) return plain.call(this, node, ctx);
    meter.spend(1);
    if (COMPARES.has(node.op) && node.left && node.right && node.handle) {
      const left = this.run(node.left, ctx);
      const right = this.run(node.right, ctx);
      meter.spend(sizeOf(left) + sizeOf(right));
      return node.handle(left, right, node, this);
    }
    if (node.op === 'rcall' && node.receiverWithArgs && node.handle && Array.isArray(node.args) && SCANS.has(node.args[0] as string)) {
      const values = node.receiverWithArgs.map((arg) => this.run(arg, ctx));
      const [receiver, pattern] = values;
      if (node.args[0] === 'matches' && typeof receiver === 'string' && typeof pattern === 'string') return matchesRegex(meter, receiver, pattern);
      meter.spend(sizeOf(receiver) + sizeOf(pattern));
      return node.handle(values, this, node);
    }
    const value = plain.call(this, node, ctx);
    if (BUILDS.has(node.op)) meter.built(value);
    return value;
  };
}

const METER_PROBE = 'weft_meter_probe';

function buildEnvironment(variables: readonly string[]): Environment {
  let env = new Environment({
    unlistedVariablesAreDyn: false,
    homogeneousAggregateLiterals: false,
    limits: { maxAstNodes: EXPRESSION_LIMITS.maxAstNodes, maxDepth: EXPRESSION_LIMITS.maxAstDepth },
  });
  for (const name of variables) env = env.registerVariable(name, name === 'cursor' ? 'dyn' : 'map');
  for (const op of MIXED_OPS) {
    env = env
      .registerOperator(`double ${op} int`, (a: number, b: bigint) => arith(op, a, Number(b)))
      .registerOperator(`int ${op} double`, (a: bigint, b: number) => arith(op, Number(a), b));
  }
  // Comparisons across int and double already work (CEL's heterogeneous comparison).
  let evaluator: Evaluator | undefined;
  env = env.registerFunction(`${METER_PROBE}(): bool`, function probe(this: Evaluator) {
    // The only way to reach the Environment's private evaluator (see meterEvaluator).
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    evaluator ??= this;
    return true;
  });
  env.evaluate(`${METER_PROBE}()`, {});
  if (evaluator === undefined || typeof evaluator.run !== 'function') throw new Error('cel-js evaluator not reachable: the expression budget cannot be enforced');
  meterEvaluator(evaluator);
  return env;
}

const environments = new Map<ExprDialect, Environment>();
export function celEnvironment(dialect: ExprDialect = 'workflow'): Environment {
  let env = environments.get(dialect);
  if (!env) {
    env = buildEnvironment(DIALECT_VARIABLES[dialect]);
    environments.set(dialect, env);
  }
  return env;
}

/** Large values whose CEL form is kept (see shareWithExpressions), by the value itself. */
const shared = new WeakMap<object, unknown>();
const SHARED_PENDING = Symbol('pending');

/**
 * Marks a large value that many expressions will read unchanged (a step output stored by
 * reference): its CEL form is built once and reused, instead of on every evaluation (a 20 MB
 * output took ~1 s per expression). The value must never be mutated afterwards.
 */
export function shareWithExpressions(value: object): void {
  if (!shared.has(value)) shared.set(value, SHARED_PENDING);
}

/** The CEL form of each lazy record (a run's expression scope), kept: the expressions over one scope share its conversions. */
const celRecords = new WeakMap<object, Record<string, unknown>>();

/** JSON value -> CEL value: integral numbers become ints. A lazy record (lazyRecord) stays lazy: each value is converted when read. */
export function toCel(value: unknown): unknown {
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value) : value;
  if (value !== null && typeof value === 'object') {
    let lazy = celRecords.get(value);
    if (lazy === undefined) {
      lazy = mapLazyRecord(value, toCel);
      if (lazy !== undefined) celRecords.set(value, lazy);
    }
    if (lazy !== undefined) return lazy;
  }
  if (value !== null && typeof value === 'object' && shared.has(value)) {
    const kept = shared.get(value);
    if (kept !== SHARED_PENDING) return kept;
    shared.delete(value);
    const converted = toCel(value);
    shared.set(value, converted);
    return converted;
  }
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
