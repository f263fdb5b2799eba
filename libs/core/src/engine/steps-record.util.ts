import type { PlannedStep, StepState } from './types';

/**
 * A run's steps record with structural sharing: to its readers an ordinary read-only
 * record (`steps[id]`, `Object.hasOwn`, `Object.keys`, spread, JSON), underneath a
 * two-level array in plan order whose chunks are shared between versions. A decision
 * that changes k steps copies the chunk index (plan size / CHUNK pointers) and k chunks,
 * instead of the whole record: a 20,000-step run's event cost ~27 ms of copying before.
 *
 * `StepsDraft` is the one writer: a decision writes through its draft, which copies a
 * chunk the first time it touches it and writes in place after that; the record it hands
 * out is immutable once the decision returns (nothing else keeps the draft).
 * Writing to a record directly throws (TypeError): states are values.
 */
const CHUNK = 64;

interface Layout {
  /** Plan position of each step id. */
  slots: Map<string, number>;
  ids: readonly string[];
}

interface Data {
  layout: Layout;
  chunks: (StepState | undefined)[][];
  /** Steps whose id the plan does not have (none in practice); copied whole on write. */
  extra: Map<string, StepState> | undefined;
  /**
   * A draft's: the indices of the chunks it copied from its base's chunk index `from`, so
   * changedSteps(base, draft) reads only those. It keeps the base's index (not the base's own
   * `copied`): one version back, never a chain.
   */
  copied?: { from: readonly (StepState | undefined)[][]; chunks: number[] };
}

const layouts = new WeakMap<readonly PlannedStep[], Layout>();
const dataOf = new WeakMap<object, Data>();

function layoutOf(plan: readonly PlannedStep[]): Layout {
  let layout = layouts.get(plan);
  if (!layout) {
    const ids = plan.map((p) => p.id);
    layout = { ids, slots: new Map(ids.map((id, i) => [id, i])) };
    layouts.set(plan, layout);
  }
  return layout;
}

function read(data: Data, id: string): StepState | undefined {
  const slot = data.layout.slots.get(id);
  if (slot !== undefined) return data.chunks[Math.floor(slot / CHUNK)][slot % CHUNK];
  return data.extra?.get(id);
}

function keys(data: Data): string[] {
  const out: string[] = [];
  const { ids } = data.layout;
  for (let c = 0; c < data.chunks.length; c++) {
    const chunk = data.chunks[c];
    for (let i = 0; i < chunk.length; i++) if (chunk[i] !== undefined) out.push(ids[c * CHUNK + i]);
  }
  if (data.extra) out.push(...data.extra.keys());
  return out;
}

const readOnly = (): never => {
  throw new TypeError('a run state steps record is read-only: build the next state with decide');
};

// Object.freeze (tests deep-freeze states) first makes the target non-extensible: the steps
// are then copied onto it and every trap answers from it, as a frozen plain record would.
const frozen = (target: object): boolean => !Reflect.isExtensible(target);

/**
 * The traps of one record: the handler holds its data (a trap is called with its handler as
 * `this`), so a new version costs a handler object, not a second WeakMap entry (for the target).
 */
class RecordHandler implements ProxyHandler<Record<string, StepState>> {
  constructor(private readonly data: Data) {}

  get(target: Record<string, StepState>, key: string | symbol): unknown {
    return frozen(target) ? Reflect.get(target, key) : typeof key === 'string' ? read(this.data, key) : undefined;
  }

  has(target: Record<string, StepState>, key: string | symbol): boolean {
    return frozen(target) ? Reflect.has(target, key) : typeof key === 'string' && read(this.data, key) !== undefined;
  }

  ownKeys(target: Record<string, StepState>): ArrayLike<string | symbol> {
    return frozen(target) ? Reflect.ownKeys(target) : keys(this.data);
  }

  getOwnPropertyDescriptor(target: Record<string, StepState>, key: string | symbol): PropertyDescriptor | undefined {
    if (frozen(target)) return Reflect.getOwnPropertyDescriptor(target, key);
    const value = typeof key === 'string' ? read(this.data, key) : undefined;
    return value === undefined ? undefined : { value, writable: false, enumerable: true, configurable: true };
  }

  preventExtensions(target: Record<string, StepState>): boolean {
    const data = this.data;
    if (!frozen(target)) for (const id of keys(data)) Object.defineProperty(target, id, { value: read(data, id), writable: false, enumerable: true, configurable: false });
    return Reflect.preventExtensions(target);
  }

  defineProperty(target: Record<string, StepState>, key: string | symbol, descriptor: PropertyDescriptor): boolean {
    return frozen(target) ? Reflect.defineProperty(target, key, descriptor) : readOnly();
  }

  set(): boolean {
    return readOnly();
  }

  deleteProperty(): boolean {
    return readOnly();
  }

  setPrototypeOf(): boolean {
    return readOnly();
  }
}

function wrap(data: Data): Record<string, StepState> {
  const record = new Proxy(Object.create(null) as Record<string, StepState>, new RecordHandler(data));
  dataOf.set(record, data);
  return record;
}

/** One step of a record, own properties only (a step may be named `__proto__` or `toString`). */
export function stepIn(steps: Record<string, StepState>, id: string): StepState | undefined {
  const data = dataOf.get(steps);
  if (data) return read(data, id);
  return Object.hasOwn(steps, id) ? steps[id] : undefined;
}

/** The record's data in this plan's layout; a plain record (loaded, built by hand) is laid out once. */
function dataFor(steps: Record<string, StepState>, plan: readonly PlannedStep[]): Data {
  const layout = layoutOf(plan);
  const data = dataOf.get(steps);
  if (data && data.layout === layout) return data;
  const chunks: (StepState | undefined)[][] = [];
  for (let start = 0; start < layout.ids.length; start += CHUNK) chunks.push(new Array<StepState | undefined>(Math.min(CHUNK, layout.ids.length - start)).fill(undefined));
  let extra: Map<string, StepState> | undefined;
  for (const id of Object.keys(steps)) {
    const step = stepIn(steps, id);
    if (step === undefined) continue;
    const slot = layout.slots.get(id);
    if (slot !== undefined) chunks[Math.floor(slot / CHUNK)][slot % CHUNK] = step;
    else (extra ??= new Map()).set(id, step);
  }
  return { layout, chunks, extra };
}

/**
 * The next version of a steps record, written by one decision. The first write copies the
 * chunk index; each chunk is copied the first time a write touches it.
 */
export class StepsDraft {
  private data: Data | undefined;
  private record: Record<string, StepState>;
  /** The base's chunks: a chunk of `data` that is still one of these is shared, not this draft's to write. */
  private baseChunks: readonly (StepState | undefined)[][] = [];
  private extraOwned = false;
  /** Indices of the chunks this draft copied (written to `data.copied`). */
  private copied: number[] = [];

  constructor(
    base: Record<string, StepState>,
    private readonly plan: readonly PlannedStep[],
  ) {
    this.record = base;
  }

  /** The current version: the base until the first write, then this draft's record. */
  get steps(): Record<string, StepState> {
    return this.record;
  }

  put(step: StepState): void {
    if (!this.data) {
      const base = dataFor(this.record, this.plan);
      this.baseChunks = base.chunks;
      this.data = { layout: base.layout, chunks: [...base.chunks], extra: base.extra, copied: { from: base.chunks, chunks: this.copied } };
      this.record = wrap(this.data);
    }
    const data = this.data;
    const slot = data.layout.slots.get(step.id);
    if (slot === undefined) {
      if (!this.extraOwned) {
        data.extra = new Map(data.extra);
        this.extraOwned = true;
      }
      data.extra?.set(step.id, step);
      return;
    }
    const c = Math.floor(slot / CHUNK);
    let chunk = data.chunks[c];
    if (chunk === this.baseChunks[c]) {
      chunk = chunk.slice();
      data.chunks[c] = chunk;
      this.copied.push(c);
    }
    chunk[slot % CHUNK] = step;
  }
}

/**
 * Reads the steps of a run by plan position, from whichever version of its record the caller
 * hands it (a decision's record changes once, from the base to its draft's, which it then
 * writes in place): an array read per step where the plan's layout is the record's, instead of
 * a look-up by id (stepIn), e.g. for a cancel that walks 50,000 steps.
 */
export class PlanSteps {
  private readonly layout: Layout;
  private record: Record<string, StepState> | undefined;
  private data: Data | undefined;

  constructor(private readonly plan: readonly PlannedStep[]) {
    this.layout = layoutOf(plan);
  }

  /** The step at plan position `position` in `steps` (as stepIn(steps, plan[position].id)). */
  at(steps: Record<string, StepState>, position: number): StepState | undefined {
    if (steps !== this.record) {
      this.record = steps;
      const data = dataOf.get(steps);
      // Data of a draft is written in place: keep the Data, not a copy of its chunk index.
      this.data = data !== undefined && data.layout === this.layout ? data : undefined;
    }
    const data = this.data;
    if (data === undefined) return stepIn(steps, this.plan[position].id);
    return data.chunks[Math.floor(position / CHUNK)][position % CHUNK];
  }
}

/**
 * The steps of `after` that are not the same object in `before` (the core returns new
 * objects for the steps it changed, the same objects for the rest). When one decision wrote
 * `after` on `before`, only the chunks it copied are read: O(changed), not O(steps). Between
 * versions further apart the chunk index is compared (plan/64 pointers) and shared chunks skipped.
 */
export function changedSteps(before: Record<string, StepState>, after: Record<string, StepState>): StepState[] {
  const a = dataOf.get(before);
  const b = dataOf.get(after);
  if (!a || !b || a.layout !== b.layout) {
    const out: StepState[] = [];
    for (const id of Object.keys(after)) {
      const step = stepIn(after, id);
      if (step !== undefined && stepIn(before, id) !== step) out.push(step);
    }
    return out;
  }
  const out: StepState[] = [];
  // `after` written by one decision on `before`: only the chunks it copied can differ (O(changed)).
  const only = b.copied?.from === a.chunks ? [...b.copied.chunks].sort((x, y) => x - y) : undefined;
  const count = only?.length ?? b.chunks.length;
  for (let n = 0; n < count; n++) {
    const c = only === undefined ? n : (only[n] as number);
    const chunk = b.chunks[c];
    const old = a.chunks[c];
    if (chunk === old) continue;
    for (let i = 0; i < chunk.length; i++) {
      const step = chunk[i];
      if (step !== undefined && step !== old[i]) out.push(step);
    }
  }
  if (b.extra && b.extra !== a.extra) for (const [id, step] of b.extra) if (a.extra?.get(id) !== step) out.push(step);
  return out;
}
