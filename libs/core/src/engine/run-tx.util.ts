import { type ExprScope, lazyRecord } from '../expr';
import { type BlobRef, isBlobRef } from '@weft/contracts';
import type { Command, LifecycleEventDraft } from './events';
import { DEFAULT_MAX_FOREACH_ITEMS, itemParent } from './for-each.util';
import { stepIn, StepsDraft } from './steps-record.util';
import { DEFAULT_MAX_RUN_DEPTH } from './child-run.util';
import { dispatchWindow, inWindow, rememberWindowLoad, windowLoad, type WindowShare } from './dispatch-window.util';
import type { AttemptRecord, Millis, PlannedStep, RunState, RunStatus, StepState, StepStatus } from './types';

/*
 * The working copy of one decision (Tx) and what every transition module shares: the plan
 * index, the expression scope, status sets and small step helpers. run.machine.ts is the map.
 */

/** Actions the core runs itself as durable waits: never dispatched to an executor. */
export const WAIT_ACTIONS = { sleep: 'sleep', event: 'wait.event', workflow: 'workflow' } as const;
export const isWaitAction = (action: string): boolean => action === WAIT_ACTIONS.sleep || action === WAIT_ACTIONS.event || action === WAIT_ACTIONS.workflow;

export const TERMINAL_RUN = new Set<RunStatus>(['completed', 'partially_completed', 'failed', 'canceled']);
/** A run that has started and not ended: `waiting` is `running` with nothing in flight. */
export const LIVE_RUN = new Set<RunStatus>(['running', 'waiting']);
export const TERMINAL_STEP = new Set<StepStatus>(['completed', 'failed', 'skipped', 'canceled', 'partially_completed']);
/** Terminal statuses that make dependents re-check their readiness. */
const SETTLING_STEP = new Set<StepStatus>(['completed', 'failed', 'skipped', 'partially_completed']);

/** How expression scopes see outputs stored by reference during the current decide(); see DecideOptions.resolveBlob. */
let blobResolver: ((ref: BlobRef) => unknown) | undefined;

/** Runs `fn` (one decide()) with `resolver` in force: decide is synchronous and never re-entered. */
export function withBlobResolver<T>(resolver: ((ref: BlobRef) => unknown) | undefined, fn: () => T): T {
  const outer = blobResolver;
  blobResolver = resolver;
  try {
    return fn();
  } finally {
    blobResolver = outer;
  }
}

/** A step that ends gives back the slot it holds, or its place in the slot queue. */
function releaseSlot(tx: Tx, before: StepState): void {
  const held = before.slot ?? (before.wait?.kind === 'slot' ? { token: before.token ?? '', scope: before.wait.scope, key: before.wait.key } : undefined);
  if (held !== undefined) tx.commands.push({ type: 'release-slot', stepId: before.id, ...held });
}

/** What the shell sets for the transaction of one decision (DecideOptions). */
export interface TxLimits {
  /** Lease granted on dispatch, start and heartbeat. */
  leaseMs: number;
  /**
   * Asked for the window of a run whose workflow sets no `maxStepsInFlight` when a transaction is
   * made (a decision that ignores its event asks nothing). Absent: DEFAULT_DISPATCH_WINDOW.
   */
  share?: WindowShare;
}

/** The working copy of one decision: copy-on-write steps, commands in order, steps to re-check. */
export class Tx {
  readonly next: RunState;
  readonly commands: Command[] = [];
  /** Step ids whose readiness may have changed; drain() walks it (and it grows while it does). */
  readonly toCheck: string[] = [];
  /** forEach items that became terminal in this decision; advanceForEach folds them (from itemsFolded on). */
  readonly settledItems: string[] = [];
  itemsFolded = 0;
  maxForEachItems = DEFAULT_MAX_FOREACH_ITEMS;
  maxRunDepth = DEFAULT_MAX_RUN_DEPTH;
  private readonly index: PlanIndex;
  /** The next steps record, sharing every chunk this decision does not touch with `prev.steps`. */
  private readonly draft: StepsDraft;
  private readonly activeBefore: number;
  private activeDelta = 0;
  private readonly blockingBefore: number;
  private blockingDelta = 0;
  private readonly executingBefore: number;
  private executingDelta = 0;
  /** The run's dispatch window (dispatch-window.util): its size, the steps in it before this decision, and the change since. */
  private readonly window: number;
  private readonly inFlightBefore: number;
  private inFlightDelta = 0;
  /** Where held steps begin (dispatch-window.util WindowLoad.heldFrom): the plan's length exactly when none is held. */
  heldFrom: number;
  /** Plan positions of the steps this decision found ready (drain's refill dispatches them in plan order). */
  heldNow: number[] = [];
  /** Set while cancelActive stops the run's work: aborts become lines of its one abort-run. */
  runAbort: Extract<Command, { type: 'abort-run' }> | undefined;
  private cachedScope: ExprScope | undefined;

  readonly leaseMs: number;

  constructor(
    prev: RunState,
    readonly at: Millis,
    limits: TxLimits,
  ) {
    this.leaseMs = limits.leaseMs;
    this.next = { ...prev, seq: prev.seq + 1 };
    // Inside a decision a waiting run is running; settleWaiting() decides again at the end.
    if (prev.status === 'waiting') this.next.status = 'running';
    this.index = planIndex(prev.plan);
    this.draft = new StepsDraft(prev.steps, prev.plan);
    const counts = stepCounts(prev);
    this.activeBefore = counts.active;
    this.blockingBefore = counts.blocking;
    this.executingBefore = counts.executing;
    const load = windowLoad(prev);
    this.window = dispatchWindow(prev, limits.share?.windowOf(prev.runId));
    this.inFlightBefore = load.inFlight;
    this.heldFrom = load.heldFrom;
  }

  /** Steps of the plan holding a place in the window now (inWindow), counted by delta: O(1). */
  inFlight(): number {
    return this.inFlightBefore + this.inFlightDelta;
  }

  /** Steps of the plan queued, running or retrying now, counted by delta: O(1). */
  executing(): number {
    return this.executingBefore + this.executingDelta;
  }

  /** Whether the run's dispatch window takes one more step now. */
  hasRoom(): boolean {
    return this.inFlight() < this.window;
  }

  /** Whether a ready step goes at once: the window has room and no step is held (else it waits its turn in plan order). */
  mayDispatchNow(): boolean {
    return this.heldFrom >= this.next.plan.length && this.heldNow.length === 0 && this.hasRoom();
  }

  /** A ready step the window does not take now: it stays pending; drain's refill dispatches held steps in plan order. */
  hold(id: string): void {
    const position = this.index.position.get(id);
    if (position !== undefined) this.heldNow.push(position);
  }

  /** Hands the window's load to the next decision (kept with the steps record this one returns). */
  rememberWindow(): void {
    // A finished run holds nothing (cancelActive ended its held steps without a refill).
    const heldFrom = TERMINAL_RUN.has(this.next.status) ? this.next.plan.length : this.heldNow.reduce((min, position) => Math.min(min, position), this.heldFrom);
    rememberWindowLoad(this.next.steps, { inFlight: this.inFlight(), heldFrom });
  }

  /** Tells executors to stop an in-flight attempt: its own abort-step, or a line of the run's abort-run while cancelActive runs. */
  abort(step: StepState, reason: string): void {
    const attempt = { stepId: step.id, attempt: step.attempt, token: step.token ?? '' };
    if (this.runAbort !== undefined) this.runAbort.steps.push(attempt);
    else this.commands.push({ type: 'abort-step', ...attempt, reason });
  }

  /** Whether some step of the plan is failed, skipped or canceled, and so could block a dependent. */
  mayBlock(): boolean {
    return this.blockingBefore + this.blockingDelta > 0;
  }

  /** Steps not yet terminal after this decision; remembered for the next one. */
  active(): number {
    const count = this.activeBefore + this.activeDelta;
    stepCountsOf.set(this.next.steps, { active: count, blocking: this.blockingBefore + this.blockingDelta, executing: this.executing() });
    return count;
  }

  step(id: string): StepState | undefined {
    return ownStep(this.next.steps, id);
  }

  /** Whether any step of the plan can wait (a sleep, a wait for a signal, a review). */
  mayWait(): boolean {
    return this.index.mayWait;
  }

  planned(id: string): PlannedStep {
    // An item runs under its forEach step's plan (action, retry, timeout, queue, onFailure).
    const planned = this.index.byId.get(id) ?? this.index.byId.get(itemParent(id) ?? '');
    if (!planned) throw new Error(`step ${id} is not in the plan`);
    return planned;
  }

  put(step: StepState): void {
    const before = ownStep(this.next.steps, step.id);
    if (TERMINAL_STEP.has(step.status) && before !== undefined && !TERMINAL_STEP.has(before.status)) releaseSlot(this, before);
    // Items are not in the plan: the run's active count is its steps'; their forEach step folds their ends.
    if (step.item === undefined) {
      this.activeDelta += (TERMINAL_STEP.has(step.status) ? 0 : 1) - (before === undefined || TERMINAL_STEP.has(before.status) ? 0 : 1);
      this.blockingDelta += (BLOCKING_STEP.has(step.status) ? 1 : 0) - (before !== undefined && BLOCKING_STEP.has(before.status) ? 1 : 0);
      this.executingDelta += (EXECUTING_STEP.has(step.status) ? 1 : 0) - (before !== undefined && EXECUTING_STEP.has(before.status) ? 1 : 0);
      this.inFlightDelta += (inWindow(step) ? 1 : 0) - (inWindow(before) ? 1 : 0);
    }
    else if (TERMINAL_STEP.has(step.status) && before !== undefined && !TERMINAL_STEP.has(before.status)) this.settledItems.push(step.id);
    this.draft.put(step);
    this.next.steps = this.draft.steps;
    // The scope reads the steps record as it is when read: one that could now see another step is let go.
    if (TERMINAL_STEP.has(step.status) || (before !== undefined && TERMINAL_STEP.has(before.status))) this.cachedScope = undefined;
    if (SETTLING_STEP.has(step.status)) for (const d of this.index.dependents.get(step.id) ?? []) this.toCheck.push(d);
  }

  check(id: string): void {
    this.toCheck.push(id);
  }

  emit(event: LifecycleEventDraft): void {
    this.commands.push({ type: 'emit', event });
  }

  /** What expressions see: inputs, finished steps, run identity. Let go when a step finishes or leaves a finished status. */
  scope(): ExprScope {
    this.cachedScope ??= expressionScope(this.next);
    return this.cachedScope;
  }
}

/**
 * The expression scope of a run: `inputs`, `steps.<id>` of finished steps, `run`. `steps` is read
 * lazily: `steps.a` builds a's view when an expression reads it (once per scope), so an expression
 * costs what it reads, not the run's size (a 10,000-step run whose steps each had a `with` template
 * and an `if` built and converted every finished step per step: 10 ms a step; bench/core-scale.ts).
 * Listing it (`steps.all(...)`, `size(steps)`, JSON) walks the plan once per scope.
 */
export function expressionScope(state: RunState): ExprScope {
  const records = state.steps;
  const { byId } = planIndex(state.plan);
  const resolve = blobResolver;
  const view = (id: string): ExprScope['steps'][string] | undefined => {
    const step = byId.has(id) ? ownStep(records, id) : undefined;
    if (!step || !TERMINAL_STEP.has(step.status)) return undefined;
    const out: ExprScope['steps'][string] = { status: step.status, attempts: step.attempt };
    if (step.output !== undefined) out.output = resolve !== undefined && isBlobRef(step.output) ? resolve(step.output) : step.output;
    if (step.error !== undefined) out.error = { code: step.error.code, message: step.error.message };
    return out;
  };
  const steps = lazyRecord(view, () => state.plan.map((p) => p.id));
  return { inputs: state.inputs, steps, run: { id: state.runId, workflow: state.workflow } };
}

// Wide runs change a step or two per event: counting unfinished steps (those that could block a
// dependent, those in flight) once per steps record, then by delta, keeps "is the run done?", drain's
// checks and "is the run waiting?" O(1) per event.
const stepCountsOf = new WeakMap<Record<string, StepState>, { active: number; blocking: number; executing: number }>();
const BLOCKING_STEP = new Set<StepStatus>(['failed', 'skipped', 'canceled']);
/** At an executor or on its way to one, or between its attempts: a run with one of these is not `waiting`. */
const EXECUTING_STEP = new Set<StepStatus>(['queued', 'running', 'retrying']);

function stepCounts(state: RunState): { active: number; blocking: number; executing: number } {
  let counts = stepCountsOf.get(state.steps);
  if (counts === undefined) {
    counts = { active: 0, blocking: 0, executing: 0 };
    for (const p of state.plan) {
      const step = ownStep(state.steps, p.id);
      if (!step || !TERMINAL_STEP.has(step.status)) counts.active++;
      if (step && BLOCKING_STEP.has(step.status)) counts.blocking++;
      if (step && EXECUTING_STEP.has(step.status)) counts.executing++;
    }
    stepCountsOf.set(state.steps, counts);
  }
  return counts;
}

interface PlanIndex {
  byId: Map<string, PlannedStep>;
  /** Plan position of each step. */
  position: Map<string, number>;
  mayWait: boolean;
  /** Direct dependents of each step, in plan order. */
  dependents: Map<string, string[]>;
}

// Keyed by the plan array, which runs share structurally from one decision to the next.
const planIndexes = new WeakMap<readonly PlannedStep[], PlanIndex>();

export function planIndex(plan: readonly PlannedStep[]): PlanIndex {
  let index = planIndexes.get(plan);
  if (!index) {
    const byId = new Map<string, PlannedStep>();
    const position = new Map<string, number>();
    const dependents = new Map<string, string[]>();
    let mayWait = false;
    for (const p of plan) {
      position.set(p.id, position.size);
      byId.set(p.id, p);
      if (p.review !== undefined || isWaitAction(p.action) || p.slot !== undefined || p.rateLimit !== undefined) mayWait = true;
      for (const need of p.needs) {
        const list = dependents.get(need);
        if (list) list.push(p.id);
        else dependents.set(need, [p.id]);
      }
    }
    index = { byId, position, dependents, mayWait };
    planIndexes.set(plan, index);
  }
  return index;
}

/** The step without what only an unfinished attempt holds: its lease, retry time and wait. */
export function withoutLease(step: StepState): StepState {
  const { leaseExpiresAt: _lease, nextAttemptAt: _next, wait: _wait, ...rest } = step;
  return rest;
}

export const iso = (ms: Millis): string => new Date(ms).toISOString();

export function updateLast(attempts: readonly AttemptRecord[], update: (a: AttemptRecord) => AttemptRecord): AttemptRecord[] {
  const out = attempts.slice();
  // One copy, its last entry replaced (was a slice and a spread of it).
  if (out.length > 0) out[out.length - 1] = update(out[out.length - 1]);
  return out;
}

export function ownStep(steps: Record<string, StepState>, id: string): StepState | undefined {
  return stepIn(steps, id);
}

/** Step ids are identifiers, so `__proto__` is one: write it as an own property, not the prototype. */
export function setOwn<T>(record: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') Object.defineProperty(record, key, { value, writable: true, enumerable: true, configurable: true });
  else record[key] = value;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

