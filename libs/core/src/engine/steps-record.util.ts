import type { PlannedStep, StepState } from './types';

/**
 * A run's steps record with structural sharing: to its readers an ordinary read-only
 * record (`steps[id]`, `Object.hasOwn`, `Object.keys`, spread, JSON), underneath a
 * three-level array in plan order (pages of chunks of steps) whose pages and chunks are
 * shared between versions. A decision that changes k steps copies the page index (plan size /
 * 4,096 pointers), at most k pages and k chunks (64 pointers each), instead of the whole
 * record: a 20,000-step run's event cost ~27 ms of copying before chunks, and a 50,000-step
 * run's chunk index alone (782 pointers, 6 KB) was most of what a step allocated and kept
 * past a scavenge before pages (docs/benchmarks.md, session 14).
 *
 * `StepsDraft` is the one writer: a decision writes through its draft, which copies a
 * chunk the first time it touches it and writes in place after that; the record it hands
 * out is immutable once the decision returns (nothing else keeps the draft).
 * Writing to a record directly throws (TypeError): states are values.
 */
const CHUNK = 64;
/** Chunks per page. */
const PAGE = 64;
const PAGE_STEPS = CHUNK * PAGE;

type Chunk = (StepState | undefined)[];
type Page = Chunk[];

interface Layout {
  /** Plan position of each step id. */
  slots: Map<string, number>;
  ids: readonly string[];
}

interface Data {
  layout: Layout;
  /** Step at plan position `slot`: pages[slot / PAGE_STEPS][(slot / CHUNK) % PAGE][slot % CHUNK]. */
  pages: Page[];
  /** Steps whose id the plan does not have (none in practice); copied whole on write. */
  extra: Map<string, StepState> | undefined;
  /**
   * A draft's: the (global) indices of the chunks it copied from its base's page index `from`,
   * so changedSteps(base, draft) reads only those. It keeps the base's index (not the base's
   * own `copied`): one version back, never a chain.
   */
  copied?: { from: readonly Page[]; chunks: number[] };
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

const at = (pages: readonly Page[], slot: number): StepState | undefined => pages[Math.floor(slot / PAGE_STEPS)][Math.floor(slot / CHUNK) % PAGE][slot % CHUNK];
/** The chunk with global index `c` (plan positions c * CHUNK ...). */
const chunkAt = (pages: readonly Page[], c: number): Chunk => pages[Math.floor(c / PAGE)][c % PAGE];

function read(data: Data, id: string): StepState | undefined {
  const slot = data.layout.slots.get(id);
  if (slot !== undefined) return at(data.pages, slot);
  return data.extra?.get(id);
}

function keys(data: Data): string[] {
  const out: string[] = [];
  const { ids } = data.layout;
  let slot = 0;
  for (const page of data.pages)
    for (const chunk of page) {
      for (let i = 0; i < chunk.length; i++) if (chunk[i] !== undefined) out.push(ids[slot + i]);
      slot += chunk.length;
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
  const size = layout.ids.length;
  const pages: Page[] = [];
  for (let start = 0; start < size; start += PAGE_STEPS) {
    const page: Page = [];
    for (let c = start; c < Math.min(size, start + PAGE_STEPS); c += CHUNK) page.push(new Array<StepState | undefined>(Math.min(CHUNK, size - c)).fill(undefined));
    pages.push(page);
  }
  let extra: Map<string, StepState> | undefined;
  for (const id of Object.keys(steps)) {
    const step = stepIn(steps, id);
    if (step === undefined) continue;
    const slot = layout.slots.get(id);
    if (slot !== undefined) chunkAt(pages, Math.floor(slot / CHUNK))[slot % CHUNK] = step;
    else (extra ??= new Map()).set(id, step);
  }
  return { layout, pages, extra };
}

/**
 * The next version of a steps record, written by one decision. The first write copies the
 * page index; each page and each chunk is copied the first time a write touches it.
 */
export class StepsDraft {
  private data: Data | undefined;
  private record: Record<string, StepState>;
  /** The base's pages: a page or chunk of `data` that is still the base's is shared, not this draft's to write. */
  private basePages: readonly Page[] = [];
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
      this.basePages = base.pages;
      this.data = { layout: base.layout, pages: [...base.pages], extra: base.extra, copied: { from: base.pages, chunks: this.copied } };
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
    const p = Math.floor(c / PAGE);
    const basePage = this.basePages[p];
    let page = data.pages[p];
    if (page === basePage) {
      page = page.slice();
      data.pages[p] = page;
    }
    let chunk = page[c % PAGE];
    if (chunk === basePage[c % PAGE]) {
      chunk = chunk.slice();
      page[c % PAGE] = chunk;
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
    return at(data.pages, position);
  }
}

/**
 * The steps of `after` that are not the same object in `before` (the core returns new
 * objects for the steps it changed, the same objects for the rest). When one decision wrote
 * `after` on `before`, only the chunks it copied are read: O(changed), not O(steps). Between
 * versions further apart the page index is compared (plan/4,096 pointers) and shared pages and
 * chunks skipped.
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
  const newIn = (chunk: Chunk, old: Chunk): void => {
    if (chunk === old) return;
    for (let i = 0; i < chunk.length; i++) {
      const step = chunk[i];
      if (step !== undefined && step !== old[i]) out.push(step);
    }
  };
  if (b.copied?.from === a.pages) {
    // `after` written by one decision on `before`: only the chunks it copied can differ (O(changed)).
    for (const c of [...b.copied.chunks].sort((x, y) => x - y)) newIn(chunkAt(b.pages, c), chunkAt(a.pages, c));
  } else {
    for (let p = 0; p < b.pages.length; p++) {
      const page = b.pages[p];
      const old = a.pages[p];
      if (page !== old) for (let c = 0; c < page.length; c++) newIn(page[c], old[c]);
    }
  }
  if (b.extra && b.extra !== a.extra) for (const [id, step] of b.extra) if (a.extra?.get(id) !== step) out.push(step);
  return out;
}
