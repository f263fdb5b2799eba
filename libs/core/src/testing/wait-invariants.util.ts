import type { Command, EngineEvent, TimerKind } from '../engine/events';
import { dispatchWindowLoad } from '../engine/run.machine';
import type { RunState, RunStatus } from '../engine/types';
import type { StepSpec } from '../workflow-spec/spec.schema';
import { emitted } from './run-driver.util';

/** A broken invariant of a simulated run. */
class Violation extends Error {}

export function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Violation(message);
}

/** What the simulations exercised, so a change that stops them reaching waits fails loudly. */
export const seen = { sleeps: 0, signalsMet: 0, waitTimeouts: 0, staleWaitTimers: 0, decisions: 0, secondDecisionsRefused: 0, canceledWaits: 0, deadlines: 0 };

export const LIVE: readonly RunStatus[] = ['running', 'waiting'];
const WAIT_TIMERS: readonly TimerKind[] = ['sleep', 'wait-timeout', 'review-deadline', 'review-escalation'];

/**
 * The invariants of a simulated run's waits (durable sleeps, signals, review gates) and of its
 * dispatch window, checked on every decision: what must happen at most once, what only a waiting
 * step may take. It records the reviews each decision opens, in command order; the simulator
 * reads the reviewer retries.
 */
export class WaitInvariants {
  /** Reviews opened (review id -> step). */
  private readonly openReviews = new Map<string, string>();
  /** Reviewer retries per step: each starts a fresh attempt budget. */
  readonly reviewRetries = new Map<string, number>();
  private readonly closedReviews = new Set<string>();
  private readonly satisfied = new Set<string>();
  private readonly decided = new Set<string>();
  private readonly completedAttempts = new Set<string>();

  constructor(private readonly plan: ReadonlyMap<string, StepSpec>) {}

  check(before: RunState, event: EngineEvent, after: RunState, commands: Command[]): void {
    const changed = after !== before;
    if (event.type === 'timer.fired' && WAIT_TIMERS.includes(event.timer)) {
      const step = event.stepId === undefined ? undefined : before.steps[event.stepId];
      // A timer of another attempt, or for a step no longer waiting, is stale.
      if (step?.status !== 'waiting' || step.attempt !== event.attempt) {
        check(!changed, `stale ${event.timer} timer of ${event.stepId ?? '?'}#${event.attempt ?? 0} changed state`);
        seen.staleWaitTimers++;
      } else if (changed) {
        if (event.timer === 'sleep') seen.sleeps++;
        if (event.timer === 'wait-timeout') seen.waitTimeouts++;
        if (event.timer === 'review-deadline') seen.deadlines++;
      }
    }
    if (event.type === 'review.decided' && !changed && this.decided.has(event.reviewId)) seen.secondDecisionsRefused++;
    if (event.type === 'run.cancel' && Object.values(before.steps).some((s) => s.status === 'waiting')) seen.canceledWaits++;
    if (event.type === 'signal.received' && changed) {
      const step = before.steps[event.stepId];
      check(step?.status === 'waiting' && step.wait?.kind === 'event' && step.token === event.token, `signal applied to ${event.stepId}, which was not waiting for it`);
      check(!this.satisfied.has(event.token), `wait ${event.token} satisfied twice`);
      this.satisfied.add(event.token);
      seen.signalsMet++;
    }
    if (event.type === 'review.decided' && changed) {
      const step = before.steps[event.stepId];
      check(step?.status === 'waiting' && step.wait?.kind === 'review' && step.wait.reviewId === event.reviewId, `decision applied to ${event.stepId}, which was not under review ${event.reviewId}`);
      if (event.decision !== 'escalate') {
        check(!this.decided.has(event.reviewId), `review ${event.reviewId} decided twice`);
        this.decided.add(event.reviewId);
        seen.decisions++;
      }
      if (event.decision === 'retry') this.reviewRetries.set(event.stepId, (this.reviewRetries.get(event.stepId) ?? 0) + 1);
    }
    for (const c of commands) {
      if (c.type === 'close-review') {
        check(this.openReviews.has(c.reviewId) && !this.closedReviews.has(c.reviewId), `review ${c.reviewId} closed twice or never opened`);
        this.closedReviews.add(c.reviewId);
      }
      if (c.type === 'open-review') {
        // Commands are applied in order: a review opened here may be closed later in the same decision
        // (its step's completion also failed the run fast, which cancels the gate it just opened).
        check(!this.openReviews.has(c.reviewId), `review ${c.reviewId} opened twice`);
        this.openReviews.set(c.reviewId, c.stepId);
      }
    }
    for (const e of emitted(commands)) {
      const key = `${e.stepId ?? ''}#${e.attempt ?? 0}`;
      if (e.type === 'step.completed' && e.data?.['reused'] !== true) {
        check(!this.completedAttempts.has(key), `${key} completed twice`);
        this.completedAttempts.add(key);
      }
      if (e.type === 'step.retrying') {
        const action = this.plan.get(e.stepId ?? '')?.action;
        check(action !== 'sleep' && action !== 'wait.event', `${e.stepId ?? '?'} is a wait and was retried`);
      }
      if (e.type === 'step.waiting') {
        for (const need of this.plan.get(e.stepId ?? '')?.needs ?? []) {
          const status = after.steps[need]?.status;
          check(status === 'completed' || (status === 'skipped' && this.plan.get(e.stepId ?? '')?.if !== undefined), `${e.stepId ?? '?'} began to wait before its need ${need} completed`);
        }
      }
    }
    const steps = Object.values(after.steps);
    for (const s of steps) if (s.status === 'waiting') check(s.wait !== undefined && s.leaseExpiresAt === undefined, `waiting step ${s.id} without its wait, or with a lease`);
    // The run's dispatch window: never more in flight than it takes, and nothing ready left behind while it has room.
    const load = dispatchWindowLoad(after);
    check(load.inFlight <= load.window, `${load.inFlight} steps in flight, over the window of ${load.window}`);
    if (LIVE.includes(after.status)) check(load.held === 0 || load.inFlight === load.window, `${load.held} ready step(s) held while the window has room (${load.inFlight} of ${load.window})`);
    if (LIVE.includes(after.status)) {
      const busy = steps.some((s) => s.status === 'queued' || s.status === 'running' || s.status === 'retrying');
      const waits = steps.some((s) => s.status === 'waiting');
      check((after.status === 'waiting') === (!busy && waits), `run is ${after.status} with busy=${busy} waiting=${waits}`);
    }
  }
}
