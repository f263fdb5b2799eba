import { expressionScope, iso, isRecord, isWaitAction, LIVE_RUN, ownStep, planIndex, setOwn, TERMINAL_RUN, TERMINAL_STEP, Tx, updateLast, WAIT_ACTIONS, withBlobResolver, withoutLease } from './run-tx.util';
import { ENGINE_ERROR_CODES, expressionFailure } from './engine-errors.util';
import { evaluateCondition, evaluateExpression, ExpressionError, type ExprScope, hasTemplate, renderValue, unwrapExpression } from '../expr';
import { type Actor, actorLabel, type BlobRef, checkPayload, DEFAULT_MAX_PAYLOAD_BYTES, DEFAULT_NAMESPACE, type ReceivedSignal, type ReviewDecision, SYSTEM_ACTORS } from '@weft/contracts';
import type { WorkflowSpec } from '../workflow-spec/spec.schema';
import type { Command, Decision, EngineEvent, LifecycleEventDraft, TimerKind } from './events';
import { PlanError, planRun, runTimeoutMs } from './plan.util';
import { eventWait, sleepWait, WaitInputError } from './wait-input.util';
import { retryDelay } from './retry-delay.util';
import { addressesForEachStep, advanceForEach, cancelItems, DEFAULT_MAX_FOREACH_ITEMS, type ForEachOps, itemInput, itemParent, startForEach } from './for-each.util';
import { childFailure, ChildInputError, childRunId, childWait, DEFAULT_MAX_RUN_DEPTH } from './child-run.util';
import { bindScope, boundExpression, renderBoundTemplate } from '../workflow-spec/bound-expression.util';
import { needsRatePermit, permitDue, permitGranted, rateWaiter, requestRatePermit } from './rate-limit.util';
import { admitRun, needsRunSlot, releaseRunSlot, requestRunSlot, RUN_SLOT_STEP } from './run-slot.util';
import type { AttemptRecord, Millis, PlannedReview, PlannedStep, RunState, RunStatus, StepError, StepState, StepStatus, StepWait } from './types';

/**
 * The run state machine: `decide(state, event) -> { state, commands }`.
 * Pure: time comes in on events, randomness from hashes, and the input state is
 * never mutated (unchanged parts are shared). An event that changes nothing
 * returns the very same state object and no commands.
 */

export { ENGINE_ERROR_CODES, type EngineErrorCode } from './engine-errors.util';
export { expressionScope, WAIT_ACTIONS } from './run-tx.util';

/** How long a queued or running attempt may stay silent before its worker is presumed lost. */
export const LEASE_MS = 60_000;
/** Lost leases re-dispatched per step (outside the retry budget) before it fails with WORKER_LOST. */
export const MAX_LOST_LEASES = 3;

export interface DecideOptions {
  /** Lease granted on dispatch, start and heartbeat. @default LEASE_MS */
  leaseMs?: number;
  /**
   * Largest JSON payload (bytes) of the run's outputs; bigger ones, and outputs holding what
   * PostgreSQL cannot store, fail the run with PAYLOAD_TOO_LARGE / UNSTORABLE_OUTPUT. (The shell
   * bounds dispatches and results against the same limit.) @default DEFAULT_MAX_PAYLOAD_BYTES
   */
  maxPayloadBytes?: number;
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
  const tx = transition(state, event, options.leaseMs ?? LEASE_MS);
  if (tx === undefined) return { state, commands: [] };
  tx.maxForEachItems = options.maxForEachItems ?? DEFAULT_MAX_FOREACH_ITEMS;
  tx.maxRunDepth = options.maxRunDepth ?? DEFAULT_MAX_RUN_DEPTH;
  if (tx.itemsFolded < tx.settledItems.length) advanceForEach(tx, FOR_EACH_OPS);
  drain(tx);
  finishIfDone(tx, options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES);
  settleWaiting(tx, state.status === 'waiting');
  return { state: tx.next, commands: withoutRecalled(tx.commands) };
}

/**
 * A fail-fast failure can cancel a step dispatched earlier in the same decision.
 * Neither the dispatch nor its abort is sent then: an abort broadcast may overtake
 * the dispatch it is meant to stop.
 */
function withoutRecalled(commands: Command[]): Command[] {
  const dispatched = new Set<string>();
  const recalled = new Set<string>();
  for (const c of commands) {
    if (c.type === 'dispatch') dispatched.add(c.token);
    else if (c.type === 'abort-step' && dispatched.has(c.token)) recalled.add(c.token);
  }
  if (recalled.size === 0) return commands;
  return commands.filter((c) => !((c.type === 'dispatch' || c.type === 'abort-step') && recalled.has(c.token)));
}

/** Applies one event; undefined means it changes nothing. */
function transition(state: RunState, event: EngineEvent, leaseMs: number): Tx | undefined {
  if (event.type === 'run.retry') return retryRun(state, event.at, leaseMs, event.reason);
  // A finished run ignores everything else: cancel (and every other end) wins over late results.
  if (TERMINAL_RUN.has(state.status)) return undefined;
  if (addressesForEachStep(state, event)) return undefined;
  switch (event.type) {
    case 'run.start': {
      if (state.status !== 'queued' || state.admission !== undefined) return undefined;
      const tx = new Tx(state, event.at, leaseMs);
      // A workflow with its own concurrency limit starts once the run holds a slot of its key.
      if (needsRunSlot(state)) requestRunSlot(tx, false);
      else startRun(tx);
      return tx;
    }
    case 'run.cancel': {
      const tx = new Tx(state, event.at, leaseMs);
      const reason = event.reason ?? 'run canceled';
      cancelActive(tx, reason);
      finishRun(tx, 'canceled', { code: ENGINE_ERROR_CODES.canceled, message: reason, retryable: false }, false);
      return tx;
    }
    case 'step.started': {
      const step = currentAttempt(state, event.stepId, event.attempt, event.token);
      if (step?.status !== 'queued') return undefined;
      const tx = new Tx(state, event.at, leaseMs);
      stepStarted(tx, step, event.workerId, true);
      return tx;
    }
    case 'step.heartbeat': {
      const step = currentAttempt(state, event.stepId, event.attempt, event.token);
      if (!step) return undefined;
      const tx = new Tx(state, event.at, leaseMs);
      tx.put({ ...step, leaseExpiresAt: Math.max(step.leaseExpiresAt ?? 0, event.at + leaseMs) });
      return tx;
    }
    case 'step.completed': {
      const child = childAttempt(state, event.stepId, event.attempt, event.token);
      if (child) {
        const tx = new Tx(state, event.at, leaseMs);
        outputReady(tx, withoutLease(endAttempt(tx, child, 'completed', undefined, undefined, false)), event.output);
        return tx;
      }
      const step = currentAttempt(state, event.stepId, event.attempt, event.token);
      if (!step) return undefined;
      const tx = new Tx(state, event.at, leaseMs);
      const { ran, armed } = startedIfQueued(tx, step, event.workerId);
      return stepCompleted(tx, ran, event.output, armed);
    }
    case 'step.failed': {
      const child = childAttempt(state, event.stepId, event.attempt, event.token);
      if (child) {
        // A child's failure is final for this attempt: running the child again is a run.retry of the parent.
        const tx = new Tx(state, event.at, leaseMs);
        const error = { ...event.error, retryable: false };
        failStep(tx, endAttempt(tx, child, 'failed', error, undefined, false), error);
        return tx;
      }
      const step = currentAttempt(state, event.stepId, event.attempt, event.token);
      if (!step) return undefined;
      const tx = new Tx(state, event.at, leaseMs);
      const { ran, armed } = startedIfQueued(tx, step, event.workerId);
      attemptFailed(tx, ran, event.error, undefined, armed);
      return tx;
    }
    case 'timer.fired':
      return timerFired(state, event.timer, event.at, leaseMs, event.stepId, event.attempt);
    case 'step.lost': {
      const step = ownStep(state.steps, event.stepId);
      if (!LIVE_RUN.has(state.status) || step?.attempt !== event.attempt) return undefined;
      if (step.status !== 'running' && step.status !== 'queued') return undefined;
      return leaseExpired(new Tx(state, event.at, leaseMs), step);
    }
    case 'signal.received': {
      const step = ownStep(state.steps, event.stepId);
      if (!LIVE_RUN.has(state.status) || step?.status !== 'waiting' || step.token !== event.token || step.wait?.kind !== 'event') return undefined;
      if (!signalSatisfies(state, step.id, event.signal)) return undefined;
      const tx = new Tx(state, event.at, leaseMs);
      signalReceived(tx, step, step.wait, event.signal);
      return tx;
    }
    case 'slot.granted': {
      if (event.stepId === RUN_SLOT_STEP) {
        const admission = state.admission;
        if (state.status !== 'queued' || admission?.token !== event.token) return undefined;
        const tx = new Tx(state, event.at, leaseMs);
        admitRun(tx.next, admission);
        return startRun(tx, admission.retry === true ? { retry: true } : undefined);
      }
      const step = ownStep(state.steps, event.stepId);
      if (!LIVE_RUN.has(state.status) || step?.status !== 'waiting' || step.wait?.kind !== 'slot' || step.token !== event.token) return undefined;
      const tx = new Tx(state, event.at, leaseMs);
      const { wait: _wait, ...rest } = step;
      dispatch(tx, { ...rest, status: 'pending', slot: { token: event.token, scope: step.wait.scope, key: step.wait.key } });
      return tx;
    }
    case 'slot.revoked': {
      const step = ownStep(state.steps, event.stepId);
      if (!LIVE_RUN.has(state.status) || !step || TERMINAL_STEP.has(step.status)) return undefined;
      const queuedFor = step.status === 'waiting' && step.wait?.kind === 'slot' && step.token === event.token;
      if (!queuedFor && step.slot?.token !== event.token) return undefined;
      const tx = new Tx(state, event.at, leaseMs);
      slotRevoked(tx, step, event.reason);
      return tx;
    }
    case 'rate.granted': {
      const step = rateWaiter(LIVE_RUN.has(state.status) ? ownStep(state.steps, event.stepId) : undefined, event.token);
      if (!step) return undefined;
      const limit = planIndex(state.plan).byId.get(itemParent(step.id) ?? step.id)?.rateLimit;
      if (!limit) return undefined;
      const tx = new Tx(state, event.at, leaseMs);
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
      const tx = new Tx(state, event.at, leaseMs);
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

function startRun(tx: Tx, data?: Record<string, unknown>): Tx {
  const { next, at } = tx;
  next.status = 'running';
  // A retried run admitted again keeps its first start.
  next.startedAt ??= at;
  armRunTimeout(tx);
  tx.emit({ type: 'run.started', at, status: 'running', ...(data !== undefined && { data }) });
  for (const p of next.plan) tx.check(p.id);
  return tx;
}

function armRunTimeout(tx: Tx): void {
  const timeoutMs = runTimeoutMs(tx.next.spec);
  if (timeoutMs === undefined) return;
  tx.next.deadlineAt = tx.at + timeoutMs;
  tx.commands.push({ type: 'schedule-timer', timer: 'run-timeout', fireAt: tx.next.deadlineAt });
}

/**
 * `run.retry`: failed, canceled and skipped steps go back to pending with fresh
 * budgets; completed steps keep their outputs. Attempt numbers keep counting so
 * tokens (and broker message ids) of the new attempts never collide with old ones.
 */
function retryRun(state: RunState, at: Millis, leaseMs: number, reason: string | undefined): Tx | undefined {
  if (state.status !== 'failed' && state.status !== 'partially_completed' && state.status !== 'canceled') return undefined;
  const tx = new Tx(state, at, leaseMs);
  const { next } = tx;
  for (const p of next.plan) {
    const step = tx.step(p.id);
    if (!step || step.status === 'completed') continue;
    tx.put({ id: step.id, status: 'pending', attempt: step.attempt, attempts: step.attempts, lostLeases: 0, attemptBase: step.attempt });
    tx.check(step.id);
  }
  delete next.finishedAt;
  delete next.error;
  delete next.outputs;
  delete next.deadlineAt;
  if (needsRunSlot(next)) {
    // Over again under the workflow's limit: queued for a slot, started when granted.
    requestRunSlot(tx, true);
    return tx;
  }
  next.status = 'running';
  next.startedAt ??= at;
  armRunTimeout(tx);
  tx.emit({ type: 'run.started', at, status: 'running', data: { retry: true, ...(reason !== undefined && { reason }) } });
  return tx;
}

/**
 * The attempt is running from `at`. `armTimeout` false: it also ends in this decision (a
 * result for a queued attempt), so no step-timeout timer is scheduled only to be dropped.
 */
function stepStarted(tx: Tx, step: StepState, workerId: string | undefined, armTimeout: boolean): StepState {
  const { at } = tx;
  const planned = tx.planned(step.id);
  const attempts = updateLast(step.attempts, (a) => ({ ...a, status: 'running', startedAt: at, ...(workerId !== undefined && { workerId }) }));
  const running: StepState = { ...step, status: 'running', startedAt: at, leaseExpiresAt: Math.max(step.leaseExpiresAt ?? 0, at + tx.leaseMs), attempts };
  tx.put(running);
  if (armTimeout) tx.commands.push({ type: 'schedule-timer', timer: 'step-timeout', stepId: step.id, attempt: step.attempt, fireAt: at + planned.timeoutMs });
  tx.emit({ type: 'step.started', at, stepId: step.id, attempt: step.attempt, status: 'running', ...(workerId !== undefined && { data: { workerId } }) });
  return running;
}

/**
 * A result proves its attempt started. One for an attempt still `queued` (no started
 * heartbeat applied: a short step's executor sends none, or it is still on its way) starts
 * it now, at the result's database time, like the started heartbeat and result the
 * store's linger merges into one transaction: startedAt == finishedAt, durationMs 0, and
 * readers see step.started before the outcome as always. `armed`: whether a step-timeout
 * timer is pending for the attempt (it is not when the attempt starts here).
 */
function startedIfQueued(tx: Tx, step: StepState, workerId: string | undefined): { ran: StepState; armed: boolean } {
  if (step.status !== 'queued') return { ran: step, armed: step.status === 'running' };
  return { ran: stepStarted(tx, step, workerId, false), armed: false };
}

function stepCompleted(tx: Tx, step: StepState, output: unknown, armed: boolean): Tx {
  outputReady(tx, endAttempt(tx, step, 'completed', undefined, undefined, armed), output);
  return tx;
}

/** The attempt produced `output`: the step completes, unless its review gate holds the output first. */
function outputReady(tx: Tx, step: StepState, output: unknown): void {
  const review = tx.planned(step.id).review;
  if (review !== undefined) {
    let held: boolean;
    try {
      held = review.when === undefined || evaluateCondition(boundExpression('output', review.when), bindScope(tx.scope(), output));
    } catch (error) {
      failStep(tx, step, expressionFailure(error, `review.when of step ${step.id}`));
      return;
    }
    if (held) {
      openReview(tx, step, review, output);
      return;
    }
  }
  completeStep(tx, step, output);
}

function completeStep(tx: Tx, step: StepState, output: unknown, decided?: StepState['review']): void {
  const { at } = tx;
  const done: StepState = { ...withoutLease(step), status: 'completed', finishedAt: at };
  if (output !== undefined) done.output = output;
  else delete done.output;
  if (decided !== undefined) done.review = decided;
  tx.put(done);
  tx.emit({
    type: 'step.completed',
    at,
    stepId: step.id,
    attempt: step.attempt,
    status: 'completed',
    durationMs: at - (step.startedAt ?? step.queuedAt ?? at),
    data: { output, ...(decided !== undefined && { review: decided }) },
  });
}

type ReviewWait = Extract<StepWait, { kind: 'review' }>;
type EventWait = Extract<StepWait, { kind: 'event' }>;

/** Holds the output for a decision: the review's rows, deadline and first escalation are the shell's to store. */
function openReview(tx: Tx, step: StepState, review: PlannedReview, output: unknown): void {
  const { at } = tx;
  const reviewId = step.token ?? `${tx.next.runId}:${step.id}:${step.attempt}`;
  let title: string;
  let instructions: string | undefined;
  try {
    const scope = bindScope(tx.scope(), output);
    title = review.title === undefined ? `Review step ${step.id}` : renderBoundTemplate('output', review.title, scope);
    if (review.instructions !== undefined) instructions = renderBoundTemplate('output', review.instructions, scope);
  } catch (error) {
    failStep(tx, step, expressionFailure(error, `review of step ${step.id}`));
    return;
  }
  const wait: ReviewWait = { kind: 'review', reviewId, output, openedAt: at, tier: 0, assignees: review.assignees, byRule: review.when !== undefined };
  if (review.deadlineMs !== undefined) wait.deadlineAt = at + review.deadlineMs;
  tx.put({ ...withoutLease(step), status: 'waiting', wait });
  tx.commands.push({
    type: 'open-review',
    reviewId,
    stepId: step.id,
    attempt: step.attempt,
    title,
    ...(instructions !== undefined && { instructions }),
    assignees: review.assignees,
    ...(review.form !== undefined && { form: review.form }),
    output,
    ...(wait.deadlineAt !== undefined && { deadlineAt: wait.deadlineAt }),
    byRule: wait.byRule,
  });
  if (wait.deadlineAt !== undefined) tx.commands.push({ type: 'schedule-timer', timer: 'review-deadline', stepId: step.id, attempt: step.attempt, fireAt: wait.deadlineAt });
  const first = review.escalation[0];
  if (first !== undefined) tx.commands.push({ type: 'schedule-timer', timer: 'review-escalation', stepId: step.id, attempt: step.attempt, fireAt: at + first.afterMs });
  tx.emit({
    type: 'review.requested',
    at,
    stepId: step.id,
    attempt: step.attempt,
    status: 'waiting',
    data: { reviewId, title, assignees: review.assignees, byRule: wait.byRule, ...(wait.deadlineAt !== undefined && { deadlineAt: iso(wait.deadlineAt) }) },
  });
}

interface DecisionInput {
  decision: ReviewDecision;
  payload?: unknown;
  comment?: string;
  actor: Actor;
  decisionId?: string;
}

/** A decision on an open review (escalate without a further tier and correct without a payload were refused before). */
function applyDecision(tx: Tx, step: StepState, wait: ReviewWait, review: PlannedReview, input: DecisionInput, fired?: TimerKind): void {
  const { decision, actor, comment, decisionId } = input;
  if (decision === 'escalate') {
    escalate(tx, step, wait, review, { actor, ...(comment !== undefined && { comment }), ...(decisionId !== undefined && { decisionId }) });
    return;
  }
  releaseReview(tx, step, wait, review, fired);
  tx.commands.push({
    type: 'close-review',
    reviewId: wait.reviewId,
    outcome: 'decided',
    decision,
    actor,
    ...(comment !== undefined && { comment }),
    ...(decision === 'correct' && { payload: input.payload }),
    ...(decisionId !== undefined && { decisionId }),
  });
  const record: NonNullable<StepState['review']> = {
    reviewId: wait.reviewId,
    decision,
    actor,
    at: tx.at,
    ...(comment !== undefined && { comment }),
    ...(decisionId !== undefined && { decisionId }),
  };
  tx.emit({ type: 'review.decided', at: tx.at, stepId: step.id, attempt: step.attempt, status: 'waiting', data: { ...record, at: iso(tx.at) } });
  switch (decision) {
    case 'continue':
      completeStep(tx, step, wait.output, record);
      return;
    case 'correct':
      completeStep(tx, step, input.payload, record);
      return;
    case 'retry':
      // A new attempt with a fresh retry budget: asking again is the reviewer's call, not a failure.
      dispatch(tx, { ...withoutLease(step), status: 'pending', attemptBase: step.attempt });
      return;
    case 'reject': {
      const message = `rejected by ${actorLabel(actor)}${comment !== undefined ? `: ${comment}` : ''}`;
      failStep(tx, { ...step, review: record }, { code: ENGINE_ERROR_CODES.rejected, message, retryable: false });
      return;
    }
  }
}

/** The next escalation tier (or, with none left after a deadline, the review marked overdue). */
function escalate(tx: Tx, step: StepState, wait: ReviewWait, review: PlannedReview, by: { actor?: Actor; comment?: string; decisionId?: string }, fromDeadline = false): void {
  const tierSpec = review.escalation[wait.tier];
  const next: ReviewWait = tierSpec === undefined ? { ...wait, overdue: true } : { ...wait, tier: wait.tier + 1, assignees: tierSpec.assignees };
  if (fromDeadline) delete next.deadlineAt;
  tx.put({ ...step, wait: next });
  tx.commands.push({
    type: 'escalate-review',
    reviewId: wait.reviewId,
    tier: next.tier,
    assignees: next.assignees,
    ...(next.overdue === true && { overdue: true }),
    ...(by.decisionId !== undefined && { decisionId: by.decisionId }),
  });
  if (tierSpec !== undefined) {
    const following = review.escalation[next.tier];
    if (following !== undefined) tx.commands.push({ type: 'schedule-timer', timer: 'review-escalation', stepId: step.id, attempt: step.attempt, fireAt: wait.openedAt + following.afterMs });
    else tx.commands.push({ type: 'cancel-timer', timer: 'review-escalation', stepId: step.id });
  }
  tx.emit({
    type: 'review.requested',
    at: tx.at,
    stepId: step.id,
    attempt: step.attempt,
    status: 'waiting',
    data: {
      reviewId: wait.reviewId,
      tier: next.tier,
      assignees: next.assignees,
      escalated: tierSpec !== undefined,
      ...(next.overdue === true && { overdue: true }),
      ...(by.actor !== undefined && { actor: by.actor }),
      ...(by.comment !== undefined && { comment: by.comment }),
    },
  });
}

/** Drops a review's pending timers (except the one that fired). */
function releaseReview(tx: Tx, step: StepState, wait: ReviewWait, review: PlannedReview | undefined, fired?: TimerKind): void {
  if (wait.deadlineAt !== undefined && fired !== 'review-deadline') tx.commands.push({ type: 'cancel-timer', timer: 'review-deadline', stepId: step.id });
  if (wait.tier < (review?.escalation.length ?? 0) && fired !== 'review-escalation') tx.commands.push({ type: 'cancel-timer', timer: 'review-escalation', stepId: step.id });
}

/** A waiting step ends without its wake-up (cancel, fail-fast, run timeout): drop what the shell holds for it. */
function releaseWait(tx: Tx, step: StepState): void {
  const wait = step.wait;
  if (wait === undefined) return;
  switch (wait.kind) {
    case 'sleep':
      tx.commands.push({ type: 'cancel-timer', timer: 'sleep', stepId: step.id });
      return;
    case 'event':
      tx.commands.push({ type: 'cancel-timer', timer: 'wait-timeout', stepId: step.id }, { type: 'cancel-wait', stepId: step.id, token: step.token ?? '' });
      return;
    case 'review':
      releaseReview(tx, step, wait, tx.planned(step.id).review);
      tx.commands.push({ type: 'close-review', reviewId: wait.reviewId, outcome: 'canceled' });
      return;
    case 'slot':
      // Tx.put gives the place in the queue back when the step ends.
      return;
    case 'rate':
      // A permit reserved is spent either way (the limit only ever errs on the slow side).
      if (wait.until !== undefined) tx.commands.push({ type: 'cancel-timer', timer: 'rate-limit', stepId: step.id });
      return;
    case 'child':
      tx.commands.push({ type: 'cancel-child', stepId: step.id, childRunId: wait.childRunId, reason: `parent run ${tx.next.runId} canceled step ${step.id}` });
      return;
  }
}

/**
 * A step with `concurrency: { limit, key }` waits for a slot of its key before each attempt it
 * is not holding one for; the shell grants slots across runs (slot.granted). The key is rendered
 * now (an item sees `item` and `index`).
 */
function requestSlot(tx: Tx, step: StepState, planned: PlannedStep, slot: NonNullable<PlannedStep['slot']>): void {
  const key = renderKey(tx, step, planned, slot.key, 'concurrency.key');
  if (key === undefined) return;
  const token = `${tx.next.runId}:${step.id}:slot:${step.attempt + 1}`;
  const scope = `${tx.next.workflow}/${itemParent(step.id) ?? step.id}`;
  const wait: StepWait = { kind: 'slot', scope, key, limit: slot.limit, priority: slot.priority };
  tx.put({ ...withoutLease(step), status: 'waiting', token, queuedAt: tx.at, wait });
  tx.commands.push({ type: 'acquire-slot', stepId: step.id, token, scope, key, limit: slot.limit, priority: slot.priority, ...(slot.strategy !== undefined && { strategy: slot.strategy }) });
  tx.emit({ type: 'step.waiting', at: tx.at, stepId: step.id, attempt: step.attempt, status: 'waiting', data: { wait: 'slot', key, limit: slot.limit } });
}

/** A strategy took the step's slot (or its place in the queue): stop what it runs and fail it, never retried. */
function slotRevoked(tx: Tx, step: StepState, reason: string): void {
  const error: StepError = { code: ENGINE_ERROR_CODES.concurrencyCanceled, message: `step ${step.id}: ${reason}`, retryable: false };
  if (step.status === 'queued' || step.status === 'running') {
    tx.commands.push({ type: 'abort-step', stepId: step.id, attempt: step.attempt, token: step.token ?? '', reason });
    failStep(tx, endAttempt(tx, step, 'canceled', error, undefined), error);
    return;
  }
  if (step.status === 'retrying') tx.commands.push({ type: 'cancel-timer', timer: 'retry', stepId: step.id });
  if (step.status === 'waiting') releaseWait(tx, step);
  failStep(tx, step, error);
}

/** A concurrency or rate-limit key rendered for the step (an item sees `item` and `index`); undefined: the step failed. */
function renderKey(tx: Tx, step: StepState, planned: PlannedStep, template: string, field: string): string | undefined {
  try {
    const rendered = step.item === undefined ? renderValue(template, tx.scope()) : itemInput({ ...planned, action: 'noop', with: { key: template } }, step.item, tx.scope())['key'];
    return typeof rendered === 'string' ? rendered : JSON.stringify(rendered ?? null);
  } catch (error) {
    failStep(tx, step, expressionFailure(error, `${field} of step ${step.id}`));
    return undefined;
  }
}

/** A step with `rateLimit` waits for a permit of its key before each attempt starts (after its slot, when it has one). */
function requestRate(tx: Tx, step: StepState, planned: PlannedStep, limit: NonNullable<PlannedStep['rateLimit']>): void {
  const key = renderKey(tx, step, planned, limit.key, 'rateLimit.key');
  if (key !== undefined) requestRatePermit(tx, withoutLease(step), limit, key);
}

/** The step starts waiting (a sleep or a signal) instead of being dispatched: no executor is involved. */
function startWait(tx: Tx, step: StepState, planned: PlannedStep, input: Record<string, unknown>): void {
  const { at, next } = tx;
  const attempt = step.attempt + 1;
  const token = `${next.runId}:${step.id}:${attempt}`;
  const depth = (next.depth ?? 0) + 1;
  if (planned.action === WAIT_ACTIONS.workflow && depth > tx.maxRunDepth) {
    const message = `step ${step.id}: a child run would be at depth ${depth}, deeper than the limit of ${tx.maxRunDepth} (WEFT_MAX_RUN_DEPTH)`;
    failStep(tx, step, { code: ENGINE_ERROR_CODES.runDepthExceeded, message, retryable: false });
    return;
  }
  let wait: StepWait;
  try {
    if (planned.action === WAIT_ACTIONS.workflow) wait = childWait(input, childRunId(token));
    else wait = planned.action === WAIT_ACTIONS.sleep ? sleepWait(input, at) : eventWait(input, at);
  } catch (error) {
    if (!(error instanceof WaitInputError) && !(error instanceof ChildInputError)) throw error;
    failStep(tx, step, { code: ENGINE_ERROR_CODES.invalidWait, message: `step ${step.id}: ${error.message}`, retryable: false });
    return;
  }
  tx.put({
    id: step.id,
    status: 'waiting',
    attempt,
    token,
    queuedAt: at,
    startedAt: at,
    attempts: [...step.attempts, { attempt, status: 'running', dispatchedAt: at, startedAt: at }],
    lostLeases: step.lostLeases ?? 0,
    attemptBase: step.attemptBase ?? 0,
    wait,
  });
  if (wait.kind === 'sleep') {
    tx.commands.push({ type: 'schedule-timer', timer: 'sleep', stepId: step.id, attempt, fireAt: wait.until });
    tx.emit({ type: 'step.waiting', at, stepId: step.id, attempt, status: 'waiting', data: { wait: 'sleep', until: iso(wait.until) } });
    return;
  }
  if (wait.kind === 'child') {
    const { childRunId: child, workflow, version, inputs } = wait;
    tx.commands.push({ type: 'start-child', stepId: step.id, attempt, token, childRunId: child, workflow, ...(version !== undefined && { version }), inputs, depth });
    tx.emit({ type: 'step.waiting', at, stepId: step.id, attempt, status: 'waiting', data: { wait: 'child', childRunId: child, workflow, ...(version !== undefined && { version }) } });
    return;
  }
  if (wait.kind !== 'event') return;
  tx.commands.push(
    { type: 'register-wait', stepId: step.id, attempt, token, name: wait.name, ...(wait.key !== undefined && { key: wait.key }), since: wait.since, expiresAt: wait.expiresAt },
    { type: 'schedule-timer', timer: 'wait-timeout', stepId: step.id, attempt, fireAt: wait.expiresAt },
  );
  tx.emit({
    type: 'step.waiting',
    at,
    stepId: step.id,
    attempt,
    status: 'waiting',
    data: { wait: 'event', event: wait.name, ...(wait.key !== undefined && { key: wait.key }), since: iso(wait.since), expiresAt: iso(wait.expiresAt) },
  });
}

/** What a satisfied wait outputs and what its `match` sees as `event`. */
export function signalView(signal: ReceivedSignal): Record<string, unknown> {
  return { id: signal.id, name: signal.name, ...(signal.key !== undefined && { key: signal.key }), data: signal.data ?? null, receivedAt: iso(signal.receivedAt) };
}

/**
 * Whether a stored signal satisfies the step's wait: its name, its key (when the wait has one),
 * received in [since, expiresAt), and `match` true. The shell asks this before handing a signal to
 * `decide` (which asks it again). A `match` that cannot be evaluated for this signal (a missing
 * field, a wrong type) is not satisfied: the wait goes on for a signal it can read.
 */
export function signalSatisfies(state: RunState, stepId: string, signal: ReceivedSignal): boolean {
  const wait = ownStep(state.steps, stepId)?.wait;
  if (wait?.kind !== 'event' || signal.name !== wait.name) return false;
  if (wait.key !== undefined && signal.key !== wait.key) return false;
  if (signal.receivedAt < wait.since || signal.receivedAt >= wait.expiresAt) return false;
  if (wait.match === undefined) return true;
  try {
    return evaluateCondition(boundExpression('event', wait.match), bindScope(expressionScope(state), signalView(signal)));
  } catch {
    return false;
  }
}

function signalReceived(tx: Tx, step: StepState, wait: EventWait, signal: ReceivedSignal): void {
  tx.commands.push({ type: 'cancel-timer', timer: 'wait-timeout', stepId: step.id }, { type: 'cancel-wait', stepId: step.id, token: step.token ?? '' });
  const ended = endAttempt(tx, { ...step, wait }, 'completed', undefined, undefined, false);
  outputReady(tx, withoutLease(ended), signalView(signal));
}

/** An attempt failed (worker error or timeout): retry it if the policy allows, else fail the step. */
function attemptFailed(tx: Tx, step: StepState, error: StepError, fired: TimerKind | undefined, armed = step.status === 'running'): void {
  const { at, next } = tx;
  const planned = tx.planned(step.id);
  const ended = endAttempt(tx, step, 'failed', error, fired, armed);
  const used = budgetUsed(step);
  const retry = error.retryable !== false && !planned.retry.nonRetryable.includes(error.code) && used < planned.retry.maxAttempts;
  if (!retry) {
    failStep(tx, ended, error);
    return;
  }
  const delayMs = retryDelay(planned.retry, used, `${next.runId}:${step.id}:${step.attempt}`);
  tx.put({ ...withoutLease(ended), status: 'retrying', error, nextAttemptAt: at + delayMs });
  tx.commands.push({ type: 'schedule-timer', timer: 'retry', stepId: step.id, attempt: step.attempt, fireAt: at + delayMs });
  tx.emit({
    type: 'step.retrying',
    at,
    stepId: step.id,
    attempt: step.attempt,
    status: 'retrying',
    error,
    data: { delayMs, nextAttempt: step.attempt + 1 },
  });
}

/** Attempts since the last run.retry that count against the retry budget. */
function budgetUsed(step: StepState): number {
  return step.attempt - (step.attemptBase ?? 0) - (step.lostLeases ?? 0);
}

/**
 * Closes the current attempt's record and drops its step-timeout timer (unless that is what
 * fired, or none was armed: `armed` defaults to "the attempt is running").
 */
function endAttempt(
  tx: Tx,
  step: StepState,
  status: AttemptRecord['status'],
  error: StepError | undefined,
  fired: TimerKind | undefined,
  armed = step.status === 'running',
): StepState {
  if (armed && fired !== 'step-timeout') tx.commands.push({ type: 'cancel-timer', timer: 'step-timeout', stepId: step.id });
  const attempts = updateLast(step.attempts, (a) => ({ ...a, status, finishedAt: tx.at, ...(error !== undefined && { error }) }));
  return { ...step, attempts };
}

/** The step failed for good: apply its onFailure. */
function failStep(tx: Tx, step: StepState, error: StepError): void {
  const { at, next } = tx;
  tx.put({ ...withoutLease(step), status: 'failed', error, finishedAt: at });
  // Like step.completed: the duration of the last attempt (none when it never ran).
  const since = step.attempt > 0 ? (step.startedAt ?? step.queuedAt) : undefined;
  tx.emit({
    type: 'step.failed',
    at,
    stepId: step.id,
    attempt: step.attempt,
    status: 'failed',
    error,
    ...(since !== undefined && { durationMs: at - since }),
  });
  // An item's failure is its forEach step's to weigh (advanceForEach), not the run's.
  if (tx.planned(step.id).onFailure === 'fail-fast' && step.item === undefined) {
    next.error = { ...error, message: `step ${step.id} failed: ${error.message}` };
    cancelActive(tx, `step ${step.id} failed`);
  }
  // Under `continue`, drain() skips the dependents: a failed need can never complete.
}

/** Cancels every step that is not finished: in-flight attempts are aborted, pending timers dropped. */
function cancelActive(tx: Tx, reason: string): void {
  const { at } = tx;
  for (const p of tx.next.plan) {
    const step = tx.step(p.id);
    if (!step || TERMINAL_STEP.has(step.status)) continue;
    if (step.forEach !== undefined) cancelItems(tx, step.id, reason);
    let attempts = step.attempts;
    if (step.status === 'queued' || step.status === 'running') {
      // A forEach step runs nothing itself: its items were aborted above.
      if (step.forEach === undefined) tx.commands.push({ type: 'abort-step', stepId: step.id, attempt: step.attempt, token: step.token ?? '', reason });
      attempts = endAttempt(tx, step, 'canceled', undefined, undefined).attempts;
    } else if (step.status === 'retrying') {
      tx.commands.push({ type: 'cancel-timer', timer: 'retry', stepId: step.id });
    } else if (step.status === 'waiting') {
      releaseWait(tx, step);
      // A sleep or a wait for a signal is its attempt; a review holds an attempt that already ended.
      if (step.wait?.kind !== 'review' && step.wait?.kind !== 'slot' && step.wait?.kind !== 'rate') attempts = endAttempt(tx, step, 'canceled', undefined, undefined, false).attempts;
    }
    tx.put({ ...withoutLease(step), status: 'canceled', reason, finishedAt: at, attempts });
    tx.emit({ type: 'step.canceled', at, stepId: step.id, attempt: step.attempt, status: 'canceled', data: { reason } });
  }
}

/** The transitions forEach drives (see for-each.util). */
const FOR_EACH_OPS: ForEachOps = {
  dispatch: (tx, step) => dispatch(tx as Tx, step),
  completeStep: (tx, step, output) => completeStep(tx as Tx, step, output),
  failStep: (tx, step, error) => failStep(tx as Tx, step, error),
};

function timerFired(state: RunState, timer: TimerKind, at: Millis, leaseMs: number, stepId?: string, attempt?: number): Tx | undefined {
  if (!LIVE_RUN.has(state.status)) return undefined;
  if (timer === 'run-timeout') {
    // A timer left over from before a run.retry fires before the new deadline: ignore it.
    if (state.deadlineAt === undefined || at < state.deadlineAt) return undefined;
    const tx = new Tx(state, at, leaseMs);
    const error: StepError = { code: ENGINE_ERROR_CODES.runTimeout, message: `run exceeded its timeout of ${state.spec.timeout ?? '?'}`, retryable: false };
    cancelActive(tx, 'run timed out');
    finishRun(tx, 'failed', error, true);
    return tx;
  }
  const step = stepId === undefined ? undefined : ownStep(state.steps, stepId);
  if (!step || step.attempt !== attempt) return undefined;
  switch (timer) {
    case 'retry': {
      if (step.status !== 'retrying') return undefined;
      const tx = new Tx(state, at, leaseMs);
      dispatch(tx, step);
      return tx;
    }
    case 'step-timeout': {
      if (step.status !== 'running' && step.status !== 'queued') return undefined;
      const tx = new Tx(state, at, leaseMs);
      const timeoutMs = tx.planned(step.id).timeoutMs;
      const error: StepError = { code: ENGINE_ERROR_CODES.timeout, message: `attempt ${step.attempt} timed out after ${timeoutMs}ms`, retryable: true };
      tx.commands.push({ type: 'abort-step', stepId: step.id, attempt: step.attempt, token: step.token ?? '', reason: 'timed out' });
      tx.emit({ type: 'step.timed_out', at, stepId: step.id, attempt: step.attempt, status: step.status, error, data: { timeoutMs } });
      attemptFailed(tx, step, error, 'step-timeout');
      return tx;
    }
    case 'lease': {
      if (step.status !== 'running' && step.status !== 'queued') return undefined;
      if (step.leaseExpiresAt === undefined || step.leaseExpiresAt > at) return undefined;
      // Never started: no worker was lost, the queue is backed up or the dispatch was lost.
      if (step.status === 'queued') return resendDispatch(new Tx(state, at, leaseMs), step);
      return leaseExpired(new Tx(state, at, leaseMs), step);
    }
    case 'sleep': {
      const wait = step.status === 'waiting' ? step.wait : undefined;
      if (wait?.kind !== 'sleep' || at < wait.until) return undefined;
      const tx = new Tx(state, at, leaseMs);
      const ended = endAttempt(tx, step, 'completed', undefined, 'sleep', false);
      outputReady(tx, withoutLease(ended), { sleptMs: at - (step.startedAt ?? at), until: iso(wait.until) });
      return tx;
    }
    case 'wait-timeout': {
      const wait = step.status === 'waiting' ? step.wait : undefined;
      if (wait?.kind !== 'event' || at < wait.expiresAt) return undefined;
      const tx = new Tx(state, at, leaseMs);
      const timeoutMs = wait.expiresAt - (step.startedAt ?? wait.expiresAt);
      const key = wait.key === undefined ? '' : ` with key ${JSON.stringify(wait.key)}`;
      // Retries do not apply to a wait: waiting again would only move the deadline.
      const error: StepError = { code: ENGINE_ERROR_CODES.timeout, message: `no signal ${wait.name}${key} arrived within ${timeoutMs}ms`, retryable: false };
      tx.commands.push({ type: 'cancel-wait', stepId: step.id, token: step.token ?? '' });
      tx.emit({ type: 'step.timed_out', at, stepId: step.id, attempt: step.attempt, status: 'waiting', error, data: { timeoutMs } });
      failStep(tx, endAttempt(tx, step, 'failed', error, 'wait-timeout', false), error);
      return tx;
    }
    case 'review-deadline': {
      const wait = step.status === 'waiting' ? step.wait : undefined;
      const review = planIndex(state.plan).byId.get(step.id)?.review;
      if (wait?.kind !== 'review' || review === undefined || wait.deadlineAt === undefined || at < wait.deadlineAt) return undefined;
      const tx = new Tx(state, at, leaseMs);
      if (review.onDeadline === 'escalate') escalate(tx, step, wait, review, {}, true);
      else applyDecision(tx, step, wait, review, { decision: review.onDeadline, actor: SYSTEM_ACTORS.deadline, comment: 'the review deadline passed' }, 'review-deadline');
      return tx;
    }
    case 'rate-limit': {
      const wait = step.status === 'waiting' ? step.wait : undefined;
      const limit = planIndex(state.plan).byId.get(itemParent(step.id) ?? step.id)?.rateLimit;
      if (wait?.kind !== 'rate' || wait.until === undefined || at < wait.until || !limit) return undefined;
      const tx = new Tx(state, at, leaseMs);
      permitDue(tx, { ...step, wait }, wait.until, limit, (ready) => dispatch(tx, ready));
      return tx;
    }
    case 'review-escalation': {
      const wait = step.status === 'waiting' ? step.wait : undefined;
      const review = planIndex(state.plan).byId.get(step.id)?.review;
      const tier = wait?.kind === 'review' ? review?.escalation[wait.tier] : undefined;
      if (wait?.kind !== 'review' || review === undefined || tier === undefined || at < wait.openedAt + tier.afterMs) return undefined;
      const tx = new Tx(state, at, leaseMs);
      escalate(tx, step, wait, review, {});
      return tx;
    }
  }
}

/** Longest wait between re-sends of a dispatch nobody takes: the lease times 2^6. */
const MAX_RESEND_BACKOFF = 6;

/**
 * A dispatch nobody took within its lease. The broker may have lost it, or the
 * queue is just long (or has no executor yet): send the same attempt again, waiting
 * twice as long each time so a backlog does not fill up with copies. The step keeps
 * waiting; a queue without executors is an operator's alert, not a step failure.
 */
function resendDispatch(tx: Tx, step: StepState): Tx {
  const planned = tx.planned(step.id);
  let input: Record<string, unknown>;
  try {
    input = step.item === undefined ? stepInput(planned, () => tx.scope()) : itemInput(planned, step.item, tx.scope());
  } catch (error) {
    failStep(tx, step, expressionFailure(error, `input of step ${step.id}`));
    return tx;
  }
  const resend = (step.resent ?? 0) + 1;
  tx.put({ ...step, resent: resend, leaseExpiresAt: tx.at + tx.leaseMs * 2 ** Math.min(resend, MAX_RESEND_BACKOFF) });
  tx.commands.push({
    type: 'dispatch',
    stepId: step.id,
    attempt: step.attempt,
    token: step.token ?? '',
    action: planned.action,
    input,
    queue: planned.queue,
    timeoutMs: planned.timeoutMs,
    resend,
  });
  return tx;
}

/** The worker went silent: dispatch a fresh attempt outside the retry budget, a few times at most. */
function leaseExpired(tx: Tx, step: StepState): Tx {
  const { at } = tx;
  const lost = step.lostLeases ?? 0;
  const message = `no word from attempt ${step.attempt} for ${tx.leaseMs}ms; worker presumed lost`;
  tx.commands.push({ type: 'abort-step', stepId: step.id, attempt: step.attempt, token: step.token ?? '', reason: 'lease expired' });
  if (lost >= MAX_LOST_LEASES) {
    const error: StepError = { code: ENGINE_ERROR_CODES.workerLost, message: `${message} (${lost} leases lost before)`, retryable: false };
    failStep(tx, endAttempt(tx, step, 'failed', error, undefined), error);
    return tx;
  }
  const error: StepError = { code: ENGINE_ERROR_CODES.workerLost, message, retryable: true };
  const ended = endAttempt(tx, step, 'failed', error, undefined);
  tx.emit({
    type: 'step.retrying',
    at,
    stepId: step.id,
    attempt: step.attempt,
    status: 'retrying',
    error,
    data: { delayMs: 0, nextAttempt: step.attempt + 1, lostLeases: lost + 1 },
  });
  dispatch(tx, { ...ended, lostLeases: lost + 1 });
  return tx;
}

/**
 * Checks steps whose needs may have settled: skips the blocked, evaluates `if`s
 * and dispatches the ready. Skips and failures queue their own dependents.
 */
function drain(tx: Tx): void {
  const queue = tx.toCheck;
  for (let i = 0; i < queue.length; i++) {
    if (tx.next.status !== 'running') return;
    const id = queue[i] ?? '';
    const step = tx.step(id);
    if (step?.status !== 'pending') continue;
    const planned = tx.planned(id);
    let waiting = false;
    let blocked: string | undefined;
    for (const need of planned.needs) {
      const status = tx.step(need)?.status;
      if (status === 'completed' || status === 'partially_completed') continue;
      // A step with its own `if` decides for itself whether a skipped need matters
      // (a join after an if/else); without one, a skipped need skips it too.
      if (status === 'skipped' && planned.if !== undefined) continue;
      if (status === 'failed' || status === 'skipped' || status === 'canceled') {
        blocked = `upstream ${status}: ${need}`;
        break;
      }
      waiting = true;
    }
    if (blocked !== undefined) {
      skipStep(tx, step, blocked);
      continue;
    }
    if (waiting) continue;
    if (planned.if !== undefined) {
      let go: boolean;
      try {
        go = evaluateCondition(planned.if, tx.scope());
      } catch (error) {
        failStep(tx, step, expressionFailure(error, `if of step ${id}`));
        continue;
      }
      if (!go) {
        skipStep(tx, step, 'condition is false');
        continue;
      }
    }
    dispatch(tx, step);
  }
}

function skipStep(tx: Tx, step: StepState, reason: string): void {
  tx.put({ ...withoutLease(step), status: 'skipped', reason, finishedAt: tx.at });
  tx.emit({ type: 'step.skipped', at: tx.at, stepId: step.id, status: 'skipped', data: { reason } });
}

/** Dispatches the next attempt of a step (pending, retrying, or re-dispatched after a lost lease). */
function dispatch(tx: Tx, step: StepState): void {
  const { at, next } = tx;
  const planned = tx.planned(step.id);
  if (planned.forEach !== undefined && step.item === undefined) {
    startForEach(tx, step, planned, FOR_EACH_OPS, (error) => expressionFailure(error, `forEach of step ${step.id}`));
    return;
  }
  let input: Record<string, unknown>;
  try {
    input = step.item === undefined ? stepInput(planned, () => tx.scope()) : itemInput(planned, step.item, tx.scope());
  } catch (error) {
    failStep(tx, step, expressionFailure(error, `input of step ${step.id}`));
    return;
  }
  const waits = isWaitAction(planned.action);
  if (!waits && planned.slot !== undefined && step.slot === undefined) {
    requestSlot(tx, step, planned, planned.slot);
    return;
  }
  if (needsRatePermit(planned.rateLimit, step)) {
    requestRate(tx, step, planned, planned.rateLimit);
    return;
  }
  if (waits) {
    startWait(tx, step, planned, input);
    return;
  }
  const attempt = step.attempt + 1;
  const token = `${next.runId}:${step.id}:${attempt}`;
  const queued: StepState = {
    id: step.id,
    status: 'queued',
    attempt,
    token,
    queuedAt: at,
    leaseExpiresAt: at + tx.leaseMs,
    attempts: [...step.attempts, { attempt, status: 'queued', dispatchedAt: at }],
    lostLeases: step.lostLeases ?? 0,
    attemptBase: step.attemptBase ?? 0,
  };
  if (step.item !== undefined) queued.item = step.item;
  if (step.slot !== undefined) queued.slot = step.slot;
  tx.put(queued);
  tx.commands.push({ type: 'dispatch', stepId: step.id, attempt, token, action: planned.action, input, queue: planned.queue, timeoutMs: planned.timeoutMs });
  tx.emit({ type: 'step.queued', at, stepId: step.id, attempt, status: 'queued', data: { queue: planned.queue, action: planned.action } });
}

/** `with` rendered; for `transform`, `{ value }` where value is `with.expr` evaluated. */
function stepInput(planned: PlannedStep, scope: () => ExprScope): Record<string, unknown> {
  if (planned.action === 'transform') {
    const expr = planned.with['expr'];
    if (typeof expr !== 'string') throw new ExpressionError(String(expr), 'a transform step needs `with.expr`, a CEL expression');
    return { value: evaluateExpression(unwrapExpression(expr), scope()) };
  }
  if (!containsTemplate(planned.with)) return planned.with;
  const rendered = renderValue(planned.with, scope());
  return isRecord(rendered) ? rendered : {};
}

function containsTemplate(value: unknown): boolean {
  if (typeof value === 'string') return hasTemplate(value);
  if (Array.isArray(value)) return value.some(containsTemplate);
  if (isRecord(value)) return Object.values(value).some(containsTemplate);
  return false;
}

/** Ends the run once every step is terminal. */
function finishIfDone(tx: Tx, maxPayloadBytes: number): void {
  const { next } = tx;
  if (next.status !== 'running' || tx.active() > 0) return;
  let completed = 0;
  const failed: StepState[] = [];
  for (const p of next.plan) {
    const step = tx.step(p.id);
    if (step?.status === 'completed') completed++;
    else if (step?.status === 'failed') failed.push(step);
    else if (step?.status === 'partially_completed') {
      // Some of its items failed: the run completes only partially, as under onFailure continue.
      completed++;
      failed.push(step);
    }
  }
  if (next.error !== undefined) {
    finishRun(tx, 'failed', next.error, false);
    return;
  }
  const firstFailed = failed[0];
  if (firstFailed !== undefined && completed === 0) {
    finishRun(tx, 'failed', stepsFailedError(failed, firstFailed), false);
    return;
  }
  let outputs: Record<string, unknown> | undefined;
  try {
    outputs = renderOutputs(next.spec, tx.scope());
  } catch (error) {
    const cause = expressionFailure(error, 'outputs');
    finishRun(tx, 'failed', { ...cause, code: ENGINE_ERROR_CODES.output }, false);
    return;
  }
  const unfit = outputs === undefined ? undefined : checkPayload(outputs, maxPayloadBytes);
  if (unfit !== undefined) {
    // Stored and published with the run: what PostgreSQL or the broker would refuse fails it instead.
    finishRun(tx, 'failed', { code: unfit.code, message: `outputs: ${unfit.message}`, retryable: false }, false);
    return;
  }
  if (outputs !== undefined) next.outputs = outputs;
  if (firstFailed === undefined) finishRun(tx, 'completed', undefined, false);
  else finishRun(tx, 'partially_completed', stepsFailedError(failed, firstFailed), false);
}

/**
 * A run is `waiting` when nothing of it is in flight (queued, running, retrying) and some step
 * waits; it is `running` again as soon as anything is dispatched. Only plans with waits pay the scan.
 */
function settleWaiting(tx: Tx, wasWaiting: boolean): void {
  const { next } = tx;
  if (next.status !== 'running' || !tx.mayWait()) return;
  const waiting: string[] = [];
  for (const p of next.plan) {
    const status = tx.step(p.id)?.status;
    if (status === 'queued' || status === 'running' || status === 'retrying') return;
    if (status === 'waiting') waiting.push(p.id);
  }
  if (waiting.length === 0) return;
  next.status = 'waiting';
  if (!wasWaiting) tx.emit({ type: 'run.waiting', at: tx.at, status: 'waiting', data: { steps: waiting } });
}

function stepsFailedError(failed: readonly StepState[], first: StepState): StepError {
  const cause = first.error ? ` (${first.id}: ${first.error.code} ${first.error.message})` : '';
  return { code: ENGINE_ERROR_CODES.stepsFailed, message: `${failed.length} step(s) failed: ${failed.map((s) => s.id).join(', ')}${cause}`, retryable: false };
}

function renderOutputs(spec: WorkflowSpec, scope: ExprScope): Record<string, unknown> | undefined {
  if (spec.outputs === undefined) return undefined;
  const rendered = renderValue(spec.outputs, scope);
  return isRecord(rendered) ? rendered : {};
}

const RUN_EVENT = {
  completed: 'run.completed',
  partially_completed: 'run.partially_completed',
  failed: 'run.failed',
  canceled: 'run.canceled',
} as const;

function finishRun(tx: Tx, status: keyof typeof RUN_EVENT, error: StepError | undefined, runTimeoutFired: boolean): void {
  const { next, at } = tx;
  next.status = status;
  next.finishedAt = at;
  if (error !== undefined) next.error = error;
  if (next.deadlineAt !== undefined && !runTimeoutFired) tx.commands.push({ type: 'cancel-timer', timer: 'run-timeout' });
  releaseRunSlot(tx);
  tx.emit({
    type: RUN_EVENT[status],
    at,
    status,
    durationMs: at - (next.startedAt ?? next.createdAt),
    ...(error !== undefined && { error }),
    ...(next.outputs !== undefined && { data: { outputs: next.outputs } }),
  });
  if (next.parent !== undefined) {
    // A child's end is its parent step's result; a failure says which child and why.
    const failure = status === 'completed' ? undefined : childFailure(next.runId, next.workflow, status, error);
    tx.commands.push({ type: 'notify-parent', parent: next.parent, status, ...(next.outputs !== undefined && { outputs: next.outputs }), ...(failure !== undefined && { error: failure }) });
  }
}
