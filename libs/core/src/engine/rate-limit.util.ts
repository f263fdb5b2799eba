import type { Command, LifecycleEventDraft } from './events';
import { itemParent } from './for-each.util';
import type { Millis, PlannedRateLimit, RunState, StepState, StepWait } from './types';

/**
 * Rate limits (`rateLimit: { limit, period, key, burst }`, docs/flow-control.md): before each
 * attempt starts, the step asks the shell for a permit of its key. The shell keeps one
 * theoretical arrival time (TAT) per (namespace, scope, key) and reserves the next start with
 * `gcraReserve` in one atomic update, so runs and scheduler replicas share the limit. Work over
 * the limit is never refused: it waits until its permit's time (a `rate-limit` timer).
 */

/** What one reservation needs to know of a limit. */
export type RateParams = Pick<PlannedRateLimit, 'limit' | 'periodMs' | 'burst'>;

/** Milliseconds between two starts at the limit's steady rate (period / limit). */
export const rateInterval = (p: RateParams): number => p.periodMs / p.limit;

/**
 * How late a permit may still be used: one interval, and at least this long (a busy scheduler's
 * timers fire a little late). A start later than that gives its permit up and asks again, so
 * work delayed by a stall never bunches up: a window of one period then holds at most
 * `limit + burst - 1 + ceil(grace / interval)` starts.
 */
export const RATE_PERMIT_GRACE_MS = 200;

/** How late a permit of this limit may still be used (see RATE_PERMIT_GRACE_MS). */
export const rateGrace = (p: RateParams): number => Math.max(rateInterval(p), RATE_PERMIT_GRACE_MS);

/** How far ahead of the TAT a start may go (the burst tolerance): (burst - 1) intervals. */
export const rateTolerance = (p: RateParams): number => (Math.max(1, p.burst) - 1) * rateInterval(p);

/**
 * GCRA as a scheduler: given the key's TAT (undefined: never used) and the time now, the start
 * this request may take and the key's next TAT. A start is never before `now`; every start
 * moves the TAT one interval on, so starts at most `burst` at once and then one per interval:
 * any window of one period holds at most `limit + burst - 1` starts. The SQL store computes the
 * same in one `INSERT .. ON CONFLICT DO UPDATE .. RETURNING`.
 */
export function gcraReserve(tat: Millis | undefined, now: Millis, p: RateParams): { startAt: Millis; tat: Millis } {
  const base = tat === undefined ? now : Math.max(tat, now);
  return { startAt: Math.max(now, base - rateTolerance(p)), tat: base + rateInterval(p) };
}

/** What asking for a permit needs of a decision's working copy (run-tx.util's Tx). */
export interface RateTx {
  readonly next: RunState;
  readonly at: Millis;
  readonly commands: Command[];
  put(step: StepState): void;
  emit(event: LifecycleEventDraft): void;
}

type RateWait = Extract<StepWait, { kind: 'rate' }>;

/** Whether the step's next attempt must first get a permit (it has a limit and no permit for that attempt). */
export const needsRatePermit = (limit: PlannedRateLimit | undefined, step: StepState): limit is PlannedRateLimit => limit !== undefined && step.ratePermit !== step.attempt + 1;

/**
 * The step waits for a permit of `key` (already rendered) for its next attempt; the shell answers
 * with rate.granted. `asks`: the how-manyth request of this attempt (each has its own token).
 */
export function requestRatePermit(tx: RateTx, step: StepState, limit: PlannedRateLimit, key: string, asks = 1): void {
  const token = `${tx.next.runId}:${step.id}:rate:${step.attempt + 1}${asks > 1 ? `.${asks}` : ''}`;
  const scope = `${tx.next.workflow}/${itemParent(step.id) ?? step.id}`;
  const wait: RateWait = { kind: 'rate', scope, key, limit: limit.limit, periodMs: limit.periodMs, ...(asks > 1 && { asks }) };
  // A step asking again keeps the time it first waited since.
  tx.put({ ...step, status: 'waiting', token, queuedAt: asks > 1 ? (step.queuedAt ?? tx.at) : tx.at, wait });
  tx.commands.push({ type: 'acquire-rate', stepId: step.id, token, scope, key, limit: limit.limit, periodMs: limit.periodMs, burst: limit.burst });
  if (asks === 1) tx.emit({ type: 'step.waiting', at: tx.at, stepId: step.id, attempt: step.attempt, status: 'waiting', data: { wait: 'rate', key, limit: limit.limit, periodMs: limit.periodMs } });
}

/** The step waiting for this permit request, or undefined (a late, duplicate or foreign answer). */
export function rateWaiter(step: StepState | undefined, token: string): (StepState & { wait: RateWait }) | undefined {
  if (step?.status !== 'waiting' || step.wait?.kind !== 'rate' || step.token !== token || step.wait.until !== undefined) return undefined;
  return step as StepState & { wait: RateWait };
}

/**
 * The permit's time is known: when it is due, start now (`start`, with the permit; an answer
 * applied later than the permit's grace asks again, as a late timer does: `permitDue`), else
 * wait for it with a `rate-limit` timer (a second answer for the same request changes nothing).
 */
export function permitGranted(tx: RateTx, step: StepState & { wait: RateWait }, notBefore: Millis, limit: PlannedRateLimit, start: (step: StepState) => void): void {
  if (notBefore <= tx.at) {
    permitDue(tx, step, notBefore, limit, start);
    return;
  }
  tx.put({ ...step, wait: { ...step.wait, until: notBefore } });
  tx.commands.push({ type: 'schedule-timer', timer: 'rate-limit', stepId: step.id, attempt: step.attempt, fireAt: notBefore });
}

/**
 * The permit's time has come (`tx.at` >= until): start, unless that is later than the permit's
 * grace (the scheduler was stalled): then give the permit up and ask again, once per attempt, so
 * starts delayed together do not go together (and a scheduler that is always late still starts
 * the work, a permit later).
 */
export function permitDue(tx: RateTx, step: StepState & { wait: RateWait }, until: Millis, limit: PlannedRateLimit, start: (step: StepState) => void): void {
  if (tx.at - until <= rateGrace(limit) || (step.wait.asks ?? 1) > 1) {
    start(withPermit(step));
    return;
  }
  const { wait, ...rest } = step;
  requestRatePermit(tx, rest, limit, wait.key, (wait.asks ?? 1) + 1);
}

/** The step, no longer waiting, holding a permit for its next attempt (pending: dispatch() takes it from here). */
export function withPermit(step: StepState): StepState {
  const { wait: _wait, ...rest } = step;
  return { ...rest, status: 'pending', ratePermit: step.attempt + 1 };
}
