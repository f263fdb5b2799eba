import { evaluateExpression, type ExprScope, hasTemplate, parseTemplate, renderValue, unwrapExpression } from '../expr';
import { bindScope, boundExpression } from '../workflow-spec/bound-expression.util';
import type { Command, EngineEvent, LifecycleEventDraft } from './events';
import { stepIn } from './steps-record.util';
import type { ForEachProgress, ItemRef, Millis, PlannedStep, RunState, StepError, StepState, StepStatus } from './types';

/**
 * Run-time fan-out (`forEach`): a step whose list is evaluated when it becomes ready and whose
 * action runs once per item, at most `concurrency` items in flight. Each item is a step entry of
 * its own (`<step>[<index>]`, not in the plan): it is dispatched, retried, timed out, leased and
 * canceled by the same code as a step, so fencing and cancel-wins hold per item. The forEach step
 * itself is `running` with a `forEach` progress record until every item settled; then it
 * completes with the items' outputs in order (or fails / ends `partially_completed`, per onFailure).
 */

/** Items in flight when a forEach step gives no `concurrency`. */
export const FOR_EACH_DEFAULT_CONCURRENCY = 10;
/** Most items of one forEach step unless the shell says otherwise (WEFT_MAX_FOREACH_ITEMS). */
export const DEFAULT_MAX_FOREACH_ITEMS = 10_000;

/** Stable codes of forEach failures (also listed in ENGINE_ERROR_CODES). */
export const FOR_EACH_ERROR_CODES = {
  /** The forEach expression did not yield a list. */
  notAList: 'FOREACH_NOT_A_LIST',
  /** The list is longer than the scheduler's WEFT_MAX_FOREACH_ITEMS. */
  tooMany: 'FOREACH_TOO_MANY_ITEMS',
  /** Items failed under onFailure: continue and none completed (or, fail-fast, the first failure). */
  itemsFailed: 'ITEMS_FAILED',
} as const;

const ITEM_ID = /^(.+)\[(\d+)\]$/;

/** The entry id of item `index` of step `stepId`. */
export const itemId = (stepId: string, index: number): string => `${stepId}[${index}]`;

/** The forEach step an entry id names an item of, or undefined for a step id. */
export function itemParent(id: string): string | undefined {
  if (!id.endsWith(']')) return undefined;
  return ITEM_ID.exec(id)?.[1];
}

/** Items in flight (queued, running or retrying) of a forEach step. */
export const inFlight = (p: ForEachProgress): number => p.started - p.completed - p.failed - p.canceled;
/** Items that ended, whatever their status. */
export const settledItems = (p: ForEachProgress): number => p.completed + p.failed + p.canceled;

/** What the forEach code needs of a decision's working copy (run-tx.util's Tx). */
export interface ForEachTx {
  readonly next: RunState;
  readonly at: Millis;
  readonly commands: Command[];
  /** Items that became terminal in this decision, in order (Tx.put appends). */
  readonly settledItems: string[];
  /** How many of settledItems advanceForEach has folded into progress already. */
  itemsFolded: number;
  /** WEFT_MAX_FOREACH_ITEMS. */
  maxForEachItems: number;
  step(id: string): StepState | undefined;
  put(step: StepState): void;
  planned(id: string): PlannedStep;
  emit(event: LifecycleEventDraft): void;
  scope(): ExprScope;
  /** Tells executors to stop an in-flight attempt (see Tx.abort). */
  abort(step: StepState, reason: string): void;
}

/** The step transitions of the machine (attempt.util, step-end.util) that forEach drives (named, so a reader can follow them). */
export interface ForEachOps {
  dispatch(tx: ForEachTx, step: StepState): void;
  completeStep(tx: ForEachTx, step: StepState, output: unknown): void;
  failStep(tx: ForEachTx, step: StepState, error: StepError): void;
}

/**
 * A forEach step became ready: evaluate its list, create one pending entry per item and dispatch
 * the first `concurrency`. Too long a list, or not a list, fails the step (never retried).
 */
export function startForEach(tx: ForEachTx, step: StepState, planned: PlannedStep, ops: ForEachOps, onExpressionError: (error: unknown) => StepError): void {
  const { at } = tx;
  let list: unknown;
  try {
    list = evaluateExpression(unwrapExpression(planned.forEach ?? '[]'), tx.scope());
  } catch (error) {
    ops.failStep(tx, step, onExpressionError(error));
    return;
  }
  if (!Array.isArray(list)) {
    ops.failStep(tx, step, { code: FOR_EACH_ERROR_CODES.notAList, message: `forEach of step ${step.id} must yield a list, got ${describe(list)}`, retryable: false });
    return;
  }
  if (list.length > tx.maxForEachItems) {
    ops.failStep(tx, step, {
      code: FOR_EACH_ERROR_CODES.tooMany,
      message: `forEach of step ${step.id} yielded ${list.length} items; at most ${tx.maxForEachItems} are allowed (WEFT_MAX_FOREACH_ITEMS)`,
      retryable: false,
    });
    return;
  }
  const attempt = step.attempt + 1;
  const progress: ForEachProgress = { total: list.length, concurrency: planned.concurrency ?? FOR_EACH_DEFAULT_CONCURRENCY, started: 0, completed: 0, failed: 0, canceled: 0 };
  const { leaseExpiresAt: _l, nextAttemptAt: _n, error: _e, output: _o, reason: _r, ...rest } = step;
  // No token and no lease: results, heartbeats and lease scans address the items, never the step.
  tx.put({
    ...rest,
    status: 'running',
    attempt,
    queuedAt: at,
    startedAt: at,
    attempts: [...step.attempts, { attempt, status: 'running', dispatchedAt: at, startedAt: at }],
    forEach: progress,
  });
  tx.emit({ type: 'step.started', at, stepId: step.id, attempt, status: 'running', data: { forEach: { total: progress.total, concurrency: progress.concurrency } } });
  list.forEach((value: unknown, index) => {
    const id = itemId(step.id, index);
    // A run.retry expands again: attempt numbers (so tokens and message ids) keep counting.
    const before = tx.step(id)?.attempt ?? 0;
    const ref: ItemRef = { of: step.id, index, value };
    tx.put({ id, status: 'pending', attempt: before, attempts: [], lostLeases: 0, attemptBase: before, item: ref });
  });
  advanceForEach(tx, ops, step.id);
}

/**
 * Folds the items that settled in this decision (since the last fold) into their steps'
 * progress, dispatches the next items while there is room, and ends a step whose items all
 * settled. An item failing under fail-fast cancels the others and fails the step. Loops because
 * a dispatch can fail an item at once. `expanded`: a step whose items were just created.
 */
export function advanceForEach(tx: ForEachTx, ops: ForEachOps, expanded?: string): void {
  const touched = new Set<string>(expanded === undefined ? [] : [expanded]);
  const settled = tx.settledItems;
  // Bounded: every round folds at least one newly settled item, and a run has finitely many.
  for (;;) {
    for (; tx.itemsFolded < settled.length; tx.itemsFolded++) {
      const entry = tx.step(settled[tx.itemsFolded] ?? '');
      const ref = entry?.item;
      if (!entry || !ref) continue;
      const parent = tx.step(ref.of);
      if (!parent?.forEach || parent.status !== 'running') continue;
      tx.put({ ...parent, forEach: counted(parent.forEach, entry.status) });
      touched.add(ref.of);
      if (entry.status === 'failed' && tx.planned(ref.of).onFailure === 'fail-fast') {
        const error = entry.error ?? { code: FOR_EACH_ERROR_CODES.itemsFailed, message: 'item failed' };
        cancelItems(tx, ref.of, `item ${ref.index} of step ${ref.of} failed`);
        const failed = tx.step(ref.of) ?? parent;
        ops.failStep(tx, { ...failed, attempts: closeLast(failed.attempts, 'failed', tx.at) }, { code: error.code, message: `item ${ref.index} failed: ${error.message}`, retryable: false });
      }
    }
    if (touched.size === 0) return;
    const ids = [...touched];
    touched.clear();
    for (const stepId of ids) fill(tx, stepId, ops);
    if (tx.itemsFolded === settled.length) return;
  }
}

/** Dispatches items while there is room; ends the step once all settled. */
function fill(tx: ForEachTx, stepId: string, ops: ForEachOps): void {
  let parent = tx.step(stepId);
  if (!parent?.forEach || parent.status !== 'running') return;
  let progress = parent.forEach;
  while (inFlight(progress) < progress.concurrency && progress.started < progress.total) {
    const item = tx.step(itemId(stepId, progress.started));
    progress = { ...progress, started: progress.started + 1 };
    parent = { ...parent, forEach: progress };
    tx.put(parent);
    if (item?.status === 'pending') ops.dispatch(tx, item);
  }
  if (settledItems(progress) < progress.total) return;
  finishForEach(tx, parent, progress, ops);
}

function finishForEach(tx: ForEachTx, parent: StepState, progress: ForEachProgress, ops: ForEachOps): void {
  const outputs: unknown[] = [];
  const failures: string[] = [];
  for (let i = 0; i < progress.total; i++) {
    const item = tx.step(itemId(parent.id, i));
    outputs.push(item?.status === 'completed' ? (item.output ?? null) : null);
    if (item?.status === 'failed' && failures.length < 5) failures.push(`${i}: ${item.error?.code ?? '?'} ${item.error?.message ?? ''}`.trim());
  }
  const summary: ForEachProgress = { ...progress };
  const closed: StepState = { ...parent, attempts: closeLast(parent.attempts, progress.completed === progress.total ? 'completed' : 'failed', tx.at) };
  if (progress.completed === progress.total) {
    ops.completeStep(tx, { ...closed, forEach: summary }, outputs);
    return;
  }
  const error: StepError = {
    code: FOR_EACH_ERROR_CODES.itemsFailed,
    message: `${progress.failed + progress.canceled} of ${progress.total} items did not complete (${failures.join('; ')})`,
    retryable: false,
  };
  if (progress.completed === 0) {
    ops.failStep(tx, { ...closed, forEach: summary }, error);
    return;
  }
  // onFailure continue: the others finished; dependents see the outputs (null where an item failed).
  const { at } = tx;
  tx.put({ ...closed, status: 'partially_completed', output: outputs, error, finishedAt: at, forEach: summary });
  tx.emit({
    type: 'step.completed',
    at,
    stepId: parent.id,
    attempt: parent.attempt,
    status: 'partially_completed',
    durationMs: at - (parent.startedAt ?? at),
    error,
    data: { output: outputs, items: { total: summary.total, completed: summary.completed, failed: summary.failed, canceled: summary.canceled } },
  });
}

/** Cancels every unfinished item of a forEach step (run cancel, run timeout, fail-fast). */
export function cancelItems(tx: ForEachTx, stepId: string, reason: string): void {
  const progress = tx.step(stepId)?.forEach;
  if (!progress) return;
  const { at } = tx;
  let canceled = 0;
  for (let i = 0; i < progress.total; i++) {
    const item = tx.step(itemId(stepId, i));
    if (!item || TERMINAL.has(item.status)) continue;
    let attempts = item.attempts;
    // As step-end.util's cancelActive does for a step (items never wait).
    if (item.status === 'queued' || item.status === 'running') {
      tx.abort(item, reason);
      if (item.status === 'running') tx.commands.push({ type: 'cancel-timer', timer: 'step-timeout', stepId: item.id });
      attempts = closeLast(item.attempts, 'canceled', at);
    } else if (item.status === 'retrying') {
      tx.commands.push({ type: 'cancel-timer', timer: 'retry', stepId: item.id });
    }
    const { leaseExpiresAt: _l, nextAttemptAt: _n, ...rest } = item;
    tx.put({ ...rest, status: 'canceled', reason, finishedAt: at, attempts });
    // Items that never started end silently: the step's own event counts them.
    if (item.attempt > (item.attemptBase ?? 0)) tx.emit({ type: 'step.canceled', at, stepId: item.id, attempt: item.attempt, status: 'canceled', data: { reason } });
    canceled++;
  }
  const parent = tx.step(stepId);
  if (parent?.forEach) tx.put({ ...parent, forEach: { ...parent.forEach, canceled: parent.forEach.canceled + canceled } });
}

/**
 * Events that address the forEach step itself while its items run are not for it: nothing is
 * dispatched under its id, so a result, heartbeat, lease or loss report for it is stale or forged.
 */
export function addressesForEachStep(state: RunState, event: EngineEvent): boolean {
  if (!('stepId' in event) || event.stepId === undefined) return false;
  if (event.type === 'signal.received' || event.type === 'review.decided') return false;
  // Read from the record's chunks (stepIn), not through two proxy traps (hasOwn, then get) per event.
  const step = stepIn(state.steps, event.stepId);
  return step?.forEach !== undefined && step.status === 'running';
}

/** The input of one item: `with` (or a transform's `with.expr`) with `item` and `index` bound. */
export function itemInput(planned: PlannedStep, ref: ItemRef, scope: ExprScope): Record<string, unknown> {
  const bound = bindScope(scope, { item: ref.value, index: ref.index });
  if (planned.action === 'transform') {
    const expr = planned.with['expr'];
    return { value: evaluateExpression(boundExpression('item', typeof expr === 'string' ? expr : 'null'), bound) };
  }
  const rendered = renderValue(itemTemplates(planned.with), bound);
  return rendered !== null && typeof rendered === 'object' && !Array.isArray(rendered) ? (rendered as Record<string, unknown>) : {};
}

// `with` rewritten so every ${{ }} sees `item` and `index`; once per plan.
const rewritten = new WeakMap<Record<string, unknown>, Record<string, unknown>>();

function itemTemplates(value: Record<string, unknown>): Record<string, unknown> {
  let done = rewritten.get(value);
  if (!done) {
    done = rewrite(value) as Record<string, unknown>;
    rewritten.set(value, done);
  }
  return done;
}

function rewrite(value: unknown): unknown {
  if (typeof value === 'string') {
    if (!hasTemplate(value)) return value;
    return parseTemplate(value)
      .map((part) => (part.kind === 'text' ? part.text : `\${{ ${boundExpression('item', part.source)} }}`))
      .join('');
  }
  if (Array.isArray(value)) return value.map(rewrite);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rewrite(v)]));
  return value;
}

const TERMINAL = new Set<StepStatus>(['completed', 'failed', 'skipped', 'canceled', 'partially_completed']);

function counted(p: ForEachProgress, status: StepStatus): ForEachProgress {
  if (status === 'completed') return { ...p, completed: p.completed + 1 };
  if (status === 'failed') return { ...p, failed: p.failed + 1 };
  return { ...p, canceled: p.canceled + 1 };
}

function closeLast(attempts: StepState['attempts'], status: 'completed' | 'failed' | 'canceled', at: Millis): StepState['attempts'] {
  const last = attempts[attempts.length - 1];
  return last === undefined ? [...attempts] : [...attempts.slice(0, -1), { ...last, status, finishedAt: at }];
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}
