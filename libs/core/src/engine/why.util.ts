import { itemCounts } from './summary.util';
import { dispatchWindow, windowLoad } from './dispatch-window.util';
import type { Millis, PlannedStep, RunState, StepState } from './types';

/**
 * "Why is it waiting?": for every step of a run that has not ended, the one reason it has not
 * moved and since when. Pure: the run state plus what only the shell knows (the time, which
 * queues have live workers). The API (`GET /v1/runs/{id}/why`), `weft runs why` and the console
 * show the same explanation.
 */

/** What the shell knows that the run state does not. */
export interface WhyFacts {
  /** Database time the explanation is for. */
  now: Millis;
  /**
   * Live workers per queue, from worker announcements (`*` serves every queue). Undefined when
   * the shell cannot tell (no catalog): a queued step is then only "dispatched".
   */
  workers?: ReadonlyMap<string, readonly string[]>;
  /**
   * The window the scheduler gives a run whose workflow sets no `maxStepsInFlight` now (smaller
   * while other runs are active: DecideOptions.windowShare). @default DEFAULT_DISPATCH_WINDOW
   */
  defaultWindow?: number;
  /** Who holds the slots of a concurrency key (scope, key), when the shell can tell. */
  slotHolders?: (scope: string, key: string) => { runId: string; stepId: string; since: Millis }[] | undefined;
}

/** The one reason a step has not moved. Times are epoch ms. */
export type WhyReason =
  /** The run has not started (it is queued; `slot`: for a concurrency slot of its workflow's key). */
  | { kind: 'run-queued'; slot?: { key: string; limit: number; holders?: { runId: string; stepId: string; since: Millis }[] } }
  /** Steps it needs have not finished (none: it is ready; `window`: held while the run's dispatch window is full; `shared`: the smaller window of a run beside other active runs). */
  | { kind: 'needs'; steps: string[]; window?: { inFlight: number; limit: number; shared?: true } }
  /** Its last attempt failed; the next one is dispatched at `until`. */
  | { kind: 'retry-backoff'; until: Millis; attempt: number; error?: string }
  /** Dispatched to `queue`, but no live worker serves it. */
  | { kind: 'no-worker'; queue: string }
  /** Dispatched to `queue`, not taken yet (a backlog). */
  | { kind: 'dispatched'; queue: string; workers?: number }
  /** A worker runs it; the lease expires at `leaseExpiresAt` unless it reports. */
  | { kind: 'leased'; workerId?: string; leaseExpiresAt?: Millis; attempt: number }
  /** A durable sleep. */
  | { kind: 'timer'; until: Millis }
  /** Waiting for a signal. */
  | { kind: 'event'; name: string; key?: string; until: Millis }
  /** Waiting for a review decision. */
  | { kind: 'review'; reviewId: string; assignees: string[]; until?: Millis }
  /** Waiting for a concurrency slot of `key` (`holders`: who holds them, when the shell knows). */
  | { kind: 'slot'; key: string; limit: number; holders?: { runId: string; stepId: string; since: Millis }[] }
  /** Waiting for a rate-limit permit of `key`; `until`: when it may start (absent while the permit is being reserved). */
  | { kind: 'rate-limited'; key: string; limit: number; periodMs: number; until?: Millis }
  /** Waiting for its child run (`action: workflow`) to end. */
  | { kind: 'child'; runId: string; workflow: string }
  /** A forEach step: its items are running (the oldest unfinished item's reason in `item`). */
  | { kind: 'items'; total: number; completed: number; failed: number; inFlight: number; pending: number; item?: { id: string; reason: WhyReason } };

export interface StepWhy {
  stepId: string;
  status: StepState['status'];
  reason: WhyReason;
  /** Since when this reason holds. */
  since: Millis | undefined;
  /** The reason in one sentence (what the CLI prints). */
  text: string;
}

export interface RunWhy {
  runId: string;
  status: RunState['status'];
  at: Millis;
  steps: StepWhy[];
}

const TERMINAL = new Set(['completed', 'failed', 'skipped', 'canceled', 'partially_completed']);

/** The explanation of every step of `state` that has not ended (none for a finished run). */
export function explainRun(state: RunState, facts: WhyFacts): RunWhy {
  const steps: StepWhy[] = [];
  const terminalRun = state.status === 'completed' || state.status === 'failed' || state.status === 'canceled' || state.status === 'partially_completed';
  if (!terminalRun) {
    for (const p of state.plan) {
      const step = stepOf(state, p.id);
      if (step && TERMINAL.has(step.status)) continue;
      const { reason, since } = explainStep(state, p, step, facts);
      steps.push({ stepId: p.id, status: step?.status ?? 'pending', reason, since, text: describeReason(reason, facts.now) });
    }
  }
  return { runId: state.runId, status: state.status, at: facts.now, steps };
}

function explainStep(state: RunState, planned: PlannedStep, step: StepState | undefined, facts: WhyFacts): { reason: WhyReason; since: Millis | undefined } {
  const status = step?.status ?? 'pending';
  switch (status) {
    case 'pending': {
      if (state.status === 'queued') {
        const admission = state.admission;
        if (admission === undefined) return { reason: { kind: 'run-queued' }, since: state.createdAt };
        const holders = facts.slotHolders?.(admission.scope, admission.key);
        return { reason: { kind: 'run-queued', slot: { key: admission.key, limit: admission.limit, ...(holders !== undefined && { holders }) } }, since: admission.since };
      }
      const open = planned.needs.filter((need) => !TERMINAL.has(stepOf(state, need)?.status ?? 'pending'));
      // Its needs all ended: it is ready, dispatched in the decision that finished the last unless the window is full.
      const ended = planned.needs.map((need) => stepOf(state, need)?.finishedAt ?? 0);
      const reason: WhyReason = { kind: 'needs', steps: open };
      if (open.length === 0) {
        const { inFlight } = windowLoad(state);
        const limit = dispatchWindow(state, facts.defaultWindow);
        if (inFlight >= limit) reason.window = limit < dispatchWindow(state) ? { inFlight, limit, shared: true } : { inFlight, limit };
      }
      return { reason, since: Math.max(state.startedAt ?? state.createdAt, ...ended) };
    }
    case 'retrying': {
      const last = step?.attempts[step.attempts.length - 1];
      const reason: WhyReason = { kind: 'retry-backoff', until: step?.nextAttemptAt ?? facts.now, attempt: step?.attempt ?? 0 };
      if (step?.error !== undefined) reason.error = `${step.error.code}: ${step.error.message}`;
      return { reason, since: last?.finishedAt };
    }
    case 'queued': {
      const { queue } = planned;
      const since = step?.queuedAt;
      if (facts.workers === undefined) return { reason: { kind: 'dispatched', queue }, since };
      const live = liveWorkers(facts.workers, queue);
      return { reason: live === 0 ? { kind: 'no-worker', queue } : { kind: 'dispatched', queue, workers: live }, since };
    }
    case 'running': {
      if (step?.forEach !== undefined) return { reason: itemsReason(state, planned, step, facts), since: step.startedAt };
      const last = step?.attempts[step.attempts.length - 1];
      const reason: WhyReason = { kind: 'leased', attempt: step?.attempt ?? 0 };
      if (last?.workerId !== undefined) reason.workerId = last.workerId;
      if (step?.leaseExpiresAt !== undefined) reason.leaseExpiresAt = step.leaseExpiresAt;
      return { reason, since: step?.startedAt };
    }
    case 'waiting': {
      const wait = step?.wait;
      if (wait?.kind === 'sleep') return { reason: { kind: 'timer', until: wait.until }, since: step?.startedAt };
      if (wait?.kind === 'event') return { reason: { kind: 'event', name: wait.name, ...(wait.key !== undefined && { key: wait.key }), until: wait.expiresAt }, since: step?.startedAt };
      if (wait?.kind === 'review') return { reason: { kind: 'review', reviewId: wait.reviewId, assignees: wait.assignees, ...(wait.deadlineAt !== undefined && { until: wait.deadlineAt }) }, since: wait.openedAt };
      if (wait?.kind === 'slot') {
        const holders = facts.slotHolders?.(wait.scope, wait.key);
        return { reason: { kind: 'slot', key: wait.key, limit: wait.limit, ...(holders !== undefined && { holders }) }, since: step?.queuedAt };
      }
      if (wait?.kind === 'rate') return { reason: { kind: 'rate-limited', key: wait.key, limit: wait.limit, periodMs: wait.periodMs, ...(wait.until !== undefined && { until: wait.until }) }, since: step?.queuedAt };
      if (wait?.kind === 'child') return { reason: { kind: 'child', runId: wait.childRunId, workflow: wait.workflow }, since: step?.startedAt };
      return { reason: { kind: 'needs', steps: [] }, since: step?.startedAt };
    }
    case 'completed':
    case 'failed':
    case 'skipped':
    case 'canceled':
    case 'partially_completed':
      return { reason: { kind: 'needs', steps: [] }, since: step?.finishedAt };
  }
}

/** A forEach step: counts, and the reason of its oldest unfinished item (the one holding it up). */
function itemsReason(state: RunState, planned: PlannedStep, step: StepState, facts: WhyFacts): WhyReason {
  const counts = itemCounts(step);
  const reason: WhyReason = { kind: 'items', total: counts?.total ?? 0, completed: counts?.completed ?? 0, failed: counts?.failed ?? 0, inFlight: counts?.inFlight ?? 0, pending: counts?.pending ?? 0 };
  const started = step.forEach?.started ?? 0;
  for (let i = 0; i < started; i++) {
    const id = `${step.id}[${i}]`;
    const item = stepOf(state, id);
    if (!item || TERMINAL.has(item.status)) continue;
    // An item is dispatched, retried and leased under its step's plan (its queue).
    const inner = explainStep(state, { ...planned, needs: [] }, item, facts);
    reason.item = { id, reason: inner.reason };
    break;
  }
  return reason;
}

function liveWorkers(workers: ReadonlyMap<string, readonly string[]>, queue: string): number {
  return new Set([...(workers.get(queue) ?? []), ...(workers.get('*') ?? [])]).size;
}

function stepOf(state: RunState, id: string): StepState | undefined {
  return Object.hasOwn(state.steps, id) ? state.steps[id] : undefined;
}

const iso = (ms: Millis): string => new Date(ms).toISOString();

/** One sentence per reason (times ISO 8601). */
export function describeReason(reason: WhyReason, now: Millis): string {
  switch (reason.kind) {
    case 'run-queued': {
      const slot = reason.slot;
      if (slot === undefined) return 'the run has not started';
      const who = slot.holders === undefined ? '' : `: held by ${slot.holders.map((h) => `${h.runId} since ${iso(h.since)}`).join(', ') || 'nobody (granting)'}`;
      return `the run waits for a concurrency slot of its workflow, key ${JSON.stringify(slot.key)} (limit ${slot.limit})${who}`;
    }
    case 'needs':
      if (reason.window !== undefined) {
        const shared = reason.window.shared === true ? ', shared with other active runs' : '';
        return `ready, held by the run's dispatch window (${reason.window.inFlight} of ${reason.window.limit} steps in flight${shared}): it goes, in plan order, as earlier steps finish`;
      }
      return reason.steps.length === 0 ? 'ready: it is dispatched with the next decision' : `needs ${reason.steps.join(', ')} (not finished)`;
    case 'retry-backoff':
      return `retry backoff until ${iso(reason.until)} (attempt ${reason.attempt} failed${reason.error !== undefined ? `: ${reason.error}` : ''})`;
    case 'no-worker':
      return `dispatched to queue ${reason.queue}, which no live worker serves`;
    case 'dispatched':
      return `dispatched to queue ${reason.queue}, not taken yet${reason.workers !== undefined ? ` (${reason.workers} live worker(s))` : ''}`;
    case 'leased':
      return `leased to worker ${reason.workerId ?? '(unknown)'} (attempt ${reason.attempt})${reason.leaseExpiresAt !== undefined ? `, lease until ${iso(reason.leaseExpiresAt)}${reason.leaseExpiresAt < now ? ' (expired: the reconciler re-dispatches it)' : ''}` : ''}`;
    case 'timer':
      return `sleeping until ${iso(reason.until)}`;
    case 'event':
      return `waiting for signal ${reason.name}${reason.key !== undefined ? ` with key ${JSON.stringify(reason.key)}` : ''} until ${iso(reason.until)}`;
    case 'review':
      return `waiting for review ${reason.reviewId}${reason.assignees.length > 0 ? ` by ${reason.assignees.join(', ')}` : ''}${reason.until !== undefined ? ` (deadline ${iso(reason.until)})` : ''}`;
    case 'slot': {
      const who = reason.holders === undefined ? '' : `: held by ${reason.holders.map((h) => `${h.runId}/${h.stepId} since ${iso(h.since)}`).join(', ') || 'nobody (granting)'}`;
      return `waiting for a concurrency slot of key ${JSON.stringify(reason.key)} (limit ${reason.limit})${who}`;
    }
    case 'rate-limited': {
      const limit = `${reason.limit} per ${reason.periodMs}ms`;
      return reason.until === undefined
        ? `waiting for a rate-limit permit of key ${JSON.stringify(reason.key)} (${limit})`
        : `rate limited until ${iso(reason.until)} (key ${JSON.stringify(reason.key)}, ${limit})`;
    }
    case 'child':
      return `waiting for child run ${reason.runId} (${reason.workflow}) to end`;
    case 'items': {
      const head = `${reason.completed + reason.failed}/${reason.total} items done, ${reason.inFlight} in flight, ${reason.pending} not started`;
      return reason.item === undefined ? head : `${head}; ${reason.item.id}: ${describeReason(reason.item.reason, now)}`;
    }
  }
}
