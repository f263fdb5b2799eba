import { type StepSpec } from '@weft/core';
import { FragmentError } from '../sdk.error';

/** A step spec whose id keeps its literal type, so builders can check `needs`. */
export type StepOf<Id extends string = string> = StepSpec & { id: Id };

/** Steps with their `needs` wired among themselves; what `chain`, `parallel` and `fanOutFanIn` return. */
export type Fragment<Id extends string = string> = readonly StepOf<Id>[];

/** Anything a helper or `WorkflowBuilder.add` accepts: a single step or a fragment. */
export type FragmentElement<Id extends string = string> = StepOf<Id> | Fragment<Id>;

/** The ids an element (or a tuple of elements) contributes. */
export type IdsOf<E> = E extends readonly (infer S)[] ? (S extends { id: infer I extends string } ? I : never) : E extends { id: infer I extends string } ? I : never;

/** Everything of a step but its id and action, with `needs` restricted to `Known` ids. */
export type StepOptions<Known extends string = string> = Omit<StepSpec, 'id' | 'action' | 'needs'> & {
  needs?: readonly Known[];
};

/** A step for a fragment: `step('build', 'shell', { with: { cmd: 'make' } })`. */
export function step<Id extends string>(id: Id, action: string, options: StepOptions = {}): StepOf<Id> {
  return normalizeStep({ ...options, id, action, needs: options.needs ? [...options.needs] : undefined });
}

/** Each element needs the previous one: its entry steps need every exit step of the element before. */
export function chain<E extends readonly FragmentElement[]>(...elements: E): Fragment<IdsOf<E[number]>> {
  const out: StepSpec[] = [];
  let previousExits: string[] = [];
  for (const element of elements) {
    const steps = cloneElement(element);
    const entryIds = new Set(entries(steps));
    for (const s of steps) {
      if (entryIds.has(s.id) && previousExits.length > 0) s.needs = union(s.needs ?? [], previousExits);
    }
    out.push(...steps);
    previousExits = exits(steps);
  }
  return out as unknown as Fragment<IdsOf<E[number]>>;
}

/** The elements side by side, with no edges among them. */
export function parallel<E extends readonly FragmentElement[]>(...elements: E): Fragment<IdsOf<E[number]>> {
  return elements.flatMap(cloneElement) as unknown as Fragment<IdsOf<E[number]>>;
}

/** What `$index` and `$item` stand for in a fan-out branch. */
export interface BranchContext<Item = unknown> {
  index: number;
  item: Item;
}

/** What a join's `with` may use: the branch ids and `outputs`, a CEL list of their outputs. */
export interface JoinContext {
  ids: readonly string[];
  /** CEL source `[steps.<id>_0.output, steps.<id>_1.output, ...]`. */
  outputs: string;
}

type BranchOptions<Item> = Omit<StepOptions, 'with' | 'needs'> & {
  /** Branch ids are `<id>_0`, `<id>_1`, ... */
  id: string;
  action: string;
  /** Strings may use `$index`, `$item` and `$item.field`, substituted at build time; or a function of the branch. */
  with?: Record<string, unknown> | ((branch: BranchContext<Item>) => Record<string, unknown>);
  /** Steps every branch needs (the fan-out point). */
  needs?: readonly string[];
  join: Omit<StepOptions, 'with' | 'needs'> & {
    id: string;
    action: string;
    /** Strings may use `$outputs` (a CEL list of the branch outputs); or a function of the branches. */
    with?: Record<string, unknown> | ((branches: JoinContext) => Record<string, unknown>);
  };
};

export type FanOutFanInOptions<Item = unknown> = BranchOptions<Item> & ({ count: number; items?: never } | { items: readonly Item[]; count?: never });

/**
 * N parallel branches and a join that needs all of them. `count: 3` makes branches
 * 0..2 (`$item` is then the index too); `items: [...]` makes one branch per item.
 */
export function fanOutFanIn<Item = unknown>(options: FanOutFanInOptions<Item>): Fragment {
  const { id, action, with: branchWith, needs, join, count, items, ...branchRest } = options;
  const list = branchItems(id, count, items);
  const branches = list.map((item, index) => {
    const context: BranchContext<Item> = { index, item };
    const rendered = typeof branchWith === 'function' ? branchWith(context) : substitute(branchWith, context, `fan-out "${id}"`);
    const condition = branchRest.if === undefined ? undefined : substitute(branchRest.if, context, `fan-out "${id}"`);
    return normalizeStep({
      ...branchRest,
      id: `${id}_${index}`,
      action,
      needs: needs ? [...needs] : undefined,
      with: rendered as Record<string, unknown> | undefined,
      if: condition as string | undefined,
    });
  });
  const ids = branches.map((b) => b.id);
  const joinContext: JoinContext = { ids, outputs: `[${ids.map((b) => `steps.${b}.output`).join(', ')}]` };
  const { id: joinId, action: joinAction, with: joinWith, ...joinRest } = join;
  const joinStep = normalizeStep({
    ...joinRest,
    id: joinId,
    action: joinAction,
    needs: ids,
    with: typeof joinWith === 'function' ? joinWith(joinContext) : replaceOutputs(joinWith, joinContext.outputs),
  });
  return [...branches, joinStep];
}

function branchItems<Item>(id: string, count: number | undefined, items: readonly Item[] | undefined): Item[] {
  if (count !== undefined && items !== undefined) throw new FragmentError(`fan-out "${id}": give either count or items, not both`);
  if (items !== undefined) {
    if (items.length === 0) throw new FragmentError(`fan-out "${id}": items is empty`);
    return [...items];
  }
  if (count === undefined || !Number.isInteger(count) || count < 1) {
    throw new FragmentError(`fan-out "${id}": count must be a positive integer, got ${String(count)}`);
  }
  // Without items, `$item` is the index, so templates can use either.
  return Array.from({ length: count }, (_, i) => i as Item);
}

const BRANCH_PLACEHOLDER = /\$(index|item)((?:\.[A-Za-z_][A-Za-z0-9_]*)*)(?![A-Za-z0-9_])/g;
const WHOLE_BRANCH_PLACEHOLDER = new RegExp(`^${BRANCH_PLACEHOLDER.source}$`);
const OUTPUTS_PLACEHOLDER = /\$outputs(?![A-Za-z0-9_])/g;

/**
 * Build-time substitution in a branch's values. A string that is exactly one
 * placeholder becomes the value itself (any JSON type); inside longer text it is
 * written as text (objects as JSON), so within CEL a string item needs quotes: `'$item'`.
 * `$item.a.b` reads fields while the value is an object; after a non-object the rest
 * is plain text, so `https://$item.example.com` works for string items.
 */
function substitute(value: unknown, context: BranchContext, where: string): unknown {
  if (typeof value === 'string') {
    const whole = WHOLE_BRANCH_PLACEHOLDER.exec(value);
    if (whole) {
      const found = lookup(whole[1], whole[2], context, where);
      if (found.rest === '') return found.value;
    }
    return value.replace(BRANCH_PLACEHOLDER, (_m, name: string, path: string) => {
      const found = lookup(name, path, context, where);
      return asText(found.value) + found.rest;
    });
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, context, where));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, context, where)]));
  }
  return value;
}

/** Resolves `$name.path`; `rest` is the part of the path left as text. */
function lookup(name: string | undefined, path: string | undefined, context: BranchContext, where: string): { value: unknown; rest: string } {
  let value: unknown = name === 'index' ? context.index : context.item;
  const keys = (path ?? '').split('.').slice(1);
  for (let i = 0; i < keys.length; i++) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return { value, rest: `.${keys.slice(i).join('.')}` };
    const key = keys[i];
    if (!(key in value)) throw new FragmentError(`${where}: $${name ?? ''}${path ?? ''} has no field "${key}" in branch ${context.index}`);
    value = (value as Record<string, unknown>)[key];
  }
  return { value, rest: '' };
}

function asText(value: unknown): string {
  if (typeof value === 'string') return value;
  return value !== null && typeof value === 'object' ? JSON.stringify(value) : String(value);
}

function replaceOutputs(value: unknown, outputs: string): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return v.replace(OUTPUTS_PLACEHOLDER, outputs);
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as Record<string, unknown>;
}

/** Steps of a fragment none of whose needs lie inside it: where wiring from outside attaches. */
function entries(steps: readonly StepSpec[]): string[] {
  const inside = new Set(steps.map((s) => s.id));
  return steps.filter((s) => !(s.needs ?? []).some((n) => inside.has(n))).map((s) => s.id);
}

/** Steps of a fragment no other step inside it needs: what the next element waits for. */
function exits(steps: readonly StepSpec[]): string[] {
  const needed = new Set(steps.flatMap((s) => s.needs ?? []));
  return steps.filter((s) => !needed.has(s.id)).map((s) => s.id);
}

function cloneElement(element: FragmentElement): StepSpec[] {
  const list: readonly StepSpec[] = isFragment(element) ? element : [element];
  return list.map((s) => structuredClone(s));
}

export function isFragment(element: FragmentElement): element is Fragment {
  return Array.isArray(element);
}

function union(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])];
}

/** Canonical key order and no empty fields, so specs and their YAML read the same everywhere. */
export function normalizeStep<S extends StepSpec>(s: S): S {
  const out: Record<string, unknown> = {
    id: s.id,
    name: s.name,
    needs: s.needs && s.needs.length > 0 ? [...s.needs] : undefined,
    if: s.if,
    action: s.action,
    with: s.with,
    timeout: s.timeout,
    retry: s.retry,
    queue: s.queue,
    onFailure: s.onFailure,
  };
  // Unknown keys are kept (and rejected by validation) rather than silently dropped.
  for (const [k, v] of Object.entries(s)) if (!(k in out)) out[k] = v;
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  return out as S;
}
