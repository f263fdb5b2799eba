import { LIVE_RUN, ownStep, planIndex, setOwn, TERMINAL_RUN, TERMINAL_STEP, Tx, type TxLimits, withBlobResolver, withoutLease } from './run-tx.util';
import { ENGINE_ERROR_CODES } from './engine-errors.util';
import { cancelActive, endAttempt, failStep } from './step-end.util';
import { outputReady } from './review-gate.util';
import { applyDecision } from './review-decision.util';
import { signalReceived, signalSatisfies } from './wait-step.util';
import { slotRevoked } from './step-slot.util';
import { attemptFailed, dispatch, FOR_EACH_OPS, leaseExpired, startedIfQueued, stepCompleted, stepStarted } from './attempt.util';
import { timerFired } from './run-timer.util';
import { drain, finishIfDone, finishRun, retryRun, settleWaiting, startRun } from './run-lifecycle.util';
import { type Actor, type BlobRef, DEFAULT_MAX_PAYLOAD_BYTES, DEFAULT_NAMESPACE } from '@weft/contracts';
import type { WorkflowSpec } from '../workflow-spec/spec.schema';
import type { Command, Decision, EngineEvent, LifecycleEventDraft } from './events';
import { PlanError, planRun } from './plan.util';
import { addressesForEachStep, advanceForEach, DEFAULT_MAX_FOREACH_ITEMS, itemParent } from './for-each.util';
import { DEFAULT_MAX_RUN_DEPTH } from './child-run.util';
import type { WindowShare } from './dispatch-window.util';
import { permitGranted, rateWaiter } from './rate-limit.util';
import { admitRun, needsRunSlot, requestRunSlot, RUN_SLOT_STEP } from './run-slot.util';
import type { Millis, RunState, RunStatus, StepState, StepStatus } from './types';

/**
 * The run state machine: `decide(state, event) -> { state, commands }`.
 * Pure: time comes in on events, randomness from hashes, and the input state is
 * never mutated (unchanged parts are shared). An event that changes nothing
 * returns the very same state object and no commands.
 */

/*
 * The map: decide() applies one event (transition(), the switch below) to a working copy (Tx,
 * run-tx.util), then lets the run move on: forEach items fold, ready steps dispatch (drain), the
 * run ends or waits (run-lifecycle.util). The transitions live by concern: attempt.util (dispatch,
 * results, retries, leases), step-end.util (complete, fail, skip, cancel), review-gate.util and
 * review-decision.util (reviews), wait-step.util (sleep, signals, child runs), step-slot.util
 * (concurrency slots, rate limits), run-timer.util (every timer); run-slot.util, rate-limit.util,
 * for-each.util and child-run.util hold the rest of each feature.
 */

export { ENGINE_ERROR_CODES, type EngineErrorCode } from './engine-errors.util';
export { expressionScope, WAIT_ACTIONS } from './run-tx.util';
export { signalSatisfies, signalView } from './wait-step.util';
export { MAX_LOST_LEASES } from './attempt.util';
export { DEFAULT_DISPATCH_WINDOW, DEFAULT_SHARED_WINDOW, dispatchWindowLoad, type WindowShare } from './dispatch-window.util';

/** How long a queued or running attempt may stay silent before its worker is presumed lost. */
export const LEASE_MS = 60_000;

export interface DecideOptions {
  /** Lease granted on dispatch, start and heartbeat. @default LEASE_MS */
  leaseMs?: number;
  /**
   * Largest JSON payload (bytes) of the run's outputs; bigger ones, and outputs holding what
   * PostgreSQL cannot store, fail the run with PAYLOAD_TOO_LARGE / UNSTORABLE_OUTPUT. (The shell
   * bounds dispatches and results against the same limit.) @default DEFAULT_MAX_PAYLOAD_BYTES
   */
  maxPayloadBytes?: number;
  /**
   * The window of a run whose workflow sets no `maxStepsInFlight`, asked once per decision that
   * changes the run (the scheduler's SharedWindows: smaller while other runs are decided beside
   * it), and told when a decision finishes the run. @default DEFAULT_DISPATCH_WINDOW always
   */
  windowShare?: WindowShare;
  /** Most items one forEach step may yield (WEFT_MAX_FOREACH_ITEMS); more fails the step. @default DEFAULT_MAX_FOREACH_ITEMS */
  maxForEachItems?: number;
  /** Deepest nesting of child runs (WEFT_MAX_RUN_DEPTH): a `workflow` step of a run at this depth fails. @default DEFAULT_MAX_RUN_DEPTH */
  maxRunDepth?: number;
  /**
   * The value of a step output stored by reference (`{ $weftBlob, size }`, issue 12 item 4), for
   * expressions: synchronous, so the shell loads blobs before deciding (it may throw to say a blob
   * is not loaded yet; the decision is then abandoned and retried). Without it expressions see the reference.
   */
  resolveBlob?: (ref: BlobRef) => unknown;
}

export interface CreateRunArgs {
  runId: string;
  spec: WorkflowSpec;
  /** Version of the workflow the spec was taken from. */
  version: string;
  /** Inputs with defaults already applied (see resolveInputs). */
  inputs: Record<string, unknown>;
  at: Millis;
  correlationId?: string;
  /** The namespace the run belongs to. @default `default` */
  namespace?: string;
  /**
   * Steps that start `completed` with the given outputs instead of running: a rerun
   * from a step keeps the previous run's results for everything not downstream of it
   * (see rerunPlan). `runId` is the run they came from.
   */
  reuse?: { runId: string; steps: Record<string, { output?: unknown }> };
  /** Who asked for the run (api, cli, trigger:<id>, parent:<runId>, ...). */
  source?: string;
  /** The key (or `local`) that asked, when one did. */
  actor?: Actor;
  /** A child run: the parent step it reports its end to, and its depth (the parent's + 1). */
  parent?: { runId: string; stepId: string; attempt: number; token: string; depth: number };
}

export const isTerminalRunStatus = (status: RunStatus): boolean => TERMINAL_RUN.has(status);
export const isTerminalStepStatus = (status: StepStatus): boolean => TERMINAL_STEP.has(status);

/** A new run: queued, every step pending. */
export function createRun(args: CreateRunArgs): Decision<RunState> {
  const plan = planRun(args.spec);
  const steps = Object.create(null) as Record<string, StepState>;
  const reuse = args.reuse;
  const reused: LifecycleEventDraft[] = [];
  if (reuse) {
    const planned = new Set(plan.map((p) => p.id));
    const unknown = Object.keys(reuse.steps).filter((id) => !planned.has(id));
    if (unknown.length > 0) throw new PlanError(`cannot reuse step(s) ${unknown.join(', ')}: not in the workflow`);
  }
  for (const p of plan) {
    const kept = reuse && Object.hasOwn(reuse.steps, p.id) ? reuse.steps[p.id] : undefined;
    if (!reuse || !kept) {
      setOwn(steps, p.id, { id: p.id, status: 'pending', attempt: 0, attempts: [], lostLeases: 0, attemptBase: 0 });
      continue;
    }
    const step: StepState = { id: p.id, status: 'completed', attempt: 0, attempts: [], finishedAt: args.at, reusedFrom: reuse.runId, lostLeases: 0, attemptBase: 0 };
    if (kept.output !== undefined) step.output = kept.output;
    setOwn(steps, p.id, step);
    // Journal and live views fold events into step states: a reused step says so once.
    reused.push({ type: 'step.completed', at: args.at, stepId: p.id, status: 'completed', data: { output: kept.output, reused: true, reusedFrom: reuse.runId } });
  }
  const state: RunState = {
    runId: args.runId,
    namespace: args.namespace ?? DEFAULT_NAMESPACE,
    workflow: args.spec.name,
    version: args.version,
    spec: args.spec,
    plan,
    steps,
    status: 'queued',
    inputs: args.inputs,
    createdAt: args.at,
    seq: 0,
  };
  if (args.correlationId !== undefined) state.correlationId = args.correlationId;
  if (args.source !== undefined) state.source = args.source;
  if (args.actor !== undefined) state.actor = args.actor;
  if (args.parent !== undefined) {
    const { depth, ...parent } = args.parent;
    state.parent = parent;
    state.depth = depth;
  }
  const data: Record<string, unknown> = { version: args.version, inputs: args.inputs };
  if (state.parent !== undefined) Object.assign(data, { parentRunId: state.parent.runId, parentStepId: state.parent.stepId });
  if (reuse) Object.assign(data, { rerunOf: reuse.runId, reused: reused.map((e) => e.stepId) });
  // The journal's reconstruct tells who started the run from this event alone.
  if (state.source !== undefined) data['source'] = state.source;
  if (state.actor !== undefined) data['actor'] = state.actor;
  const event: LifecycleEventDraft = { type: 'run.queued', at: args.at, status: 'queued', data };
  return { state, commands: [event, ...reused].map((e): Command => ({ type: 'emit', event: e })) };
}

export function decide(state: RunState, event: EngineEvent, options: DecideOptions = {}): Decision<RunState> {
  return withBlobResolver(options.resolveBlob, () => decideWith(state, event, options));
}

function decideWith(state: RunState, event: EngineEvent, options: DecideOptions): Decision<RunState> {
  const share = options.windowShare;
  const tx = transition(state, event, { leaseMs: options.leaseMs ?? LEASE_MS, ...(share !== undefined && { share }) });
  if (tx === undefined) return { state, commands: [] };
  tx.maxForEachItems = options.maxForEachItems ?? DEFAULT_MAX_FOREACH_ITEMS;
  tx.maxRunDepth = options.maxRunDepth ?? DEFAULT_MAX_RUN_DEPTH;
  if (tx.itemsFolded < tx.settledItems.length) advanceForEach(tx, FOR_EACH_OPS);
  drain(tx);
  finishIfDone(tx, options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES);
  settleWaiting(tx, state.status === 'waiting');
  tx.rememberWindow();
  if (share !== undefined && TERMINAL_RUN.has(tx.next.status)) share.ended(state.runId);
  return { state: tx.next, commands: withoutRecalled(tx.commands) };
}

/**
 * A fail-fast failure can cancel a step dispatched earlier in the same decision (or, in the
 * shell, in an earlier decision of the same commit). Neither the dispatch nor its abort is
 * sent then: an abort broadcast may overtake the dispatch it is meant to stop. An abort-run
 * left with no attempt to stop is dropped.
 */
export function withoutRecalled(commands: Command[]): Command[] {
  // Most decisions abort nothing: then nothing is recalled, and no set is built.
  if (!commands.some((c) => c.type === 'abort-step' || c.type === 'abort-run')) return commands;
  const dispatched = new Set<string>();
  const recalled = new Set<string>();
  for (const c of commands) {
    if (c.type === 'dispatch') dispatched.add(c.token);
    else if (c.type === 'abort-step' && dispatched.has(c.token)) recalled.add(c.token);
    else if (c.type === 'abort-run') for (const s of c.steps) if (dispatched.has(s.token)) recalled.add(s.token);
  }
  if (recalled.size === 0) return commands;
  const out: Command[] = [];
  for (const c of commands) {
    if ((c.type === 'dispatch' || c.type === 'abort-step') && recalled.has(c.token)) continue;
    if (c.type !== 'abort-run') {
      out.push(c);
      continue;
    }
    const steps = c.steps.filter((s) => !recalled.has(s.token));
    if (steps.length > 0) out.push(steps.length === c.steps.length ? c : { ...c, steps });
  }
  return out;
}

/** Applies one event; undefined means it changes nothing. */
function transition(state: RunState, event: EngineEvent, limits: TxLimits): Tx | undefined {
  if (event.type === 'run.retry') return retryRun(state, event.at, limits, event.reason);
  // A finished run ignores everything else: cancel (and every other end) wins over late results.
  if (TERMINAL_RUN.has(state.status)) return undefined;
  if (addressesForEachStep(state, event)) return undefined;
  switch (event.type) {
    case 'run.start': {
      if (state.status !== 'queued' || state.admission !== undefined) return undefined;
      const tx = new Tx(state, event.at, limits);
      // A workflow with its own concurrency limit starts once the run holds a slot of its key.
      if (needsRunSlot(state)) requestRunSlot(tx, false);
      else startRun(tx);
      return tx;
    }
    case 'run.cancel': {
      const tx = new Tx(state, event.at, limits);
      const reason = event.reason ?? 'run canceled';
      cancelActive(tx, reason);
      finishRun(tx, 'canceled', { code: ENGINE_ERROR_CODES.canceled, message: reason, retryable: false }, false);
      return tx;
    }
    case 'step.started': {
      const step = currentAttempt(state, event.stepId, event.attempt, event.token);
      if (step?.status !== 'queued') return undefined;
      const tx = new Tx(state, event.at, limits);
      stepStarted(tx, step, event.workerId, true);
      return tx;
    }
    case 'step.heartbeat': {
      const step = currentAttempt(state, event.stepId, event.attempt, event.token);
      if (!step) return undefined;
      const tx = new Tx(state, event.at, limits);
      tx.put({ ...step, leaseExpiresAt: Math.max(step.leaseExpiresAt ?? 0, event.at + limits.leaseMs) });
      return tx;
    }
    case 'step.completed': {
      const child = childAttempt(state, event.stepId, event.attempt, event.token);
      if (child) {
        const tx = new Tx(state, event.at, limits);
        outputReady(tx, withoutLease(endAttempt(tx, child, 'completed', undefined, undefined, false)), event.output);
        return tx;
      }
      const step = currentAttempt(state, event.stepId, event.attempt, event.token);
      if (!step) return undefined;
      const tx = new Tx(state, event.at, limits);
      const { ran, armed } = startedIfQueued(tx, step, event.workerId);
      return stepCompleted(tx, ran, event.output, armed);
    }
    case 'step.failed': {
      const child = childAttempt(state, event.stepId, event.attempt, event.token);
      if (child) {
        // A child's failure is final for this attempt: running the child again is a run.retry of the parent.
        const tx = new Tx(state, event.at, limits);
        const error = { ...event.error, retryable: false };
        failStep(tx, endAttempt(tx, child, 'failed', error, undefined, false), error);
        return tx;
      }
      const step = currentAttempt(state, event.stepId, event.attempt, event.token);
      if (!step) return undefined;
      const tx = new Tx(state, event.at, limits);
      const { ran, armed } = startedIfQueued(tx, step, event.workerId);
      attemptFailed(tx, ran, event.error, undefined, armed);
      return tx;
    }
    case 'timer.fired':
      return timerFired(state, event.timer, event.at, limits, event.stepId, event.attempt);
    case 'step.lost': {
      const step = ownStep(state.steps, event.stepId);
      if (!LIVE_RUN.has(state.status) || step?.attempt !== event.attempt) return undefined;
      if (step.status !== 'running' && step.status !== 'queued') return undefined;
      return leaseExpired(new Tx(state, event.at, limits), step);
    }
    case 'signal.received': {
      const step = ownStep(state.steps, event.stepId);
      if (!LIVE_RUN.has(state.status) || step?.status !== 'waiting' || step.token !== event.token || step.wait?.kind !== 'event') return undefined;
      if (!signalSatisfies(state, step.id, event.signal)) return undefined;
      const tx = new Tx(state, event.at, limits);
      signalReceived(tx, step, step.wait, event.signal);
      return tx;
    }
    case 'slot.granted': {
      if (event.stepId === RUN_SLOT_STEP) {
        const admission = state.admission;
        if (state.status !== 'queued' || admission?.token !== event.token) return undefined;
        const tx = new Tx(state, event.at, limits);
        admitRun(tx.next, admission);
        return startRun(tx, admission.retry === true ? { retry: true } : undefined);
      }
      const step = ownStep(state.steps, event.stepId);
      if (!LIVE_RUN.has(state.status) || step?.status !== 'waiting' || step.wait?.kind !== 'slot' || step.token !== event.token) return undefined;
      const tx = new Tx(state, event.at, limits);
      const { wait: _wait, ...rest } = step;
      dispatch(tx, { ...rest, status: 'pending', slot: { token: event.token, scope: step.wait.scope, key: step.wait.key } });
      return tx;
    }
    case 'slot.revoked': {
      const step = ownStep(state.steps, event.stepId);
      if (!LIVE_RUN.has(state.status) || !step || TERMINAL_STEP.has(step.status)) return undefined;
      const queuedFor = step.status === 'waiting' && step.wait?.kind === 'slot' && step.token === event.token;
      if (!queuedFor && step.slot?.token !== event.token) return undefined;
      const tx = new Tx(state, event.at, limits);
      slotRevoked(tx, step, event.reason);
      return tx;
    }
    case 'rate.granted': {
      const step = rateWaiter(LIVE_RUN.has(state.status) ? ownStep(state.steps, event.stepId) : undefined, event.token);
      if (!step) return undefined;
      const limit = planIndex(state.plan).byId.get(itemParent(step.id) ?? step.id)?.rateLimit;
      if (!limit) return undefined;
      const tx = new Tx(state, event.at, limits);
      permitGranted(tx, step, event.notBefore, limit, (ready) => dispatch(tx, ready));
      return tx;
    }
    case 'review.decided': {
      const step = ownStep(state.steps, event.stepId);
      if (!LIVE_RUN.has(state.status) || step?.status !== 'waiting' || step.wait?.kind !== 'review' || step.wait.reviewId !== event.reviewId) return undefined;
      const wait = step.wait;
      const review = planIndex(state.plan).byId.get(step.id)?.review;
      if (!review) return undefined;
      if (event.decision === 'escalate' && wait.tier >= review.escalation.length) return undefined;
      // An escalation decided on what a reviewer saw: a concurrent one already moved the tier.
      if (event.decision === 'escalate' && event.fromTier !== undefined && event.fromTier !== wait.tier) return undefined;
      if (event.decision === 'correct' && event.payload === undefined) return undefined;
      const tx = new Tx(state, event.at, limits);
      applyDecision(tx, step, wait, review, event);
      return tx;
    }
  }
}

/** A `workflow` step waiting on its child, when (attempt, token) name its current attempt: the child's end is its result. */
function childAttempt(state: RunState, stepId: string, attempt: number, token: string): StepState | undefined {
  if (!LIVE_RUN.has(state.status)) return undefined;
  const step = ownStep(state.steps, stepId);
  return step?.status === 'waiting' && step.wait?.kind === 'child' && step.attempt === attempt && step.token === token ? step : undefined;
}

/** The step's current attempt when it is in flight and matches (attempt, token); else undefined (stale). */
function currentAttempt(state: RunState, stepId: string, attempt: number, token: string): StepState | undefined {
  if (!LIVE_RUN.has(state.status)) return undefined;
  const step = ownStep(state.steps, stepId);
  if (!step || step.attempt !== attempt || step.token !== token) return undefined;
  return step.status === 'queued' || step.status === 'running' ? step : undefined;
}
