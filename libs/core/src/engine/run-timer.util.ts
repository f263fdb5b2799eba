import { iso, LIVE_RUN, ownStep, planIndex, Tx, type TxLimits, withoutLease } from './run-tx.util';
import { ENGINE_ERROR_CODES } from './engine-errors.util';
import { cancelActive, endAttempt, failStep } from './step-end.util';
import { outputReady } from './review-gate.util';
import { applyDecision, escalate } from './review-decision.util';
import { attemptFailed, dispatch, leaseExpired, resendDispatch } from './attempt.util';
import { finishRun } from './run-lifecycle.util';
import { SYSTEM_ACTORS } from '@weft/contracts';
import type { TimerKind } from './events';
import { itemParent } from './for-each.util';
import { permitDue } from './rate-limit.util';
import type { Millis, RunState, StepError } from './types';

// `timer.fired`: the run timeout and every per-step timer (retry, step timeout, lease, waits, reviews, rate limit).

export function timerFired(state: RunState, timer: TimerKind, at: Millis, limits: TxLimits, stepId?: string, attempt?: number): Tx | undefined {
  if (!LIVE_RUN.has(state.status)) return undefined;
  if (timer === 'run-timeout') {
    // A timer left over from before a run.retry fires before the new deadline: ignore it.
    if (state.deadlineAt === undefined || at < state.deadlineAt) return undefined;
    const tx = new Tx(state, at, limits);
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
      const tx = new Tx(state, at, limits);
      dispatch(tx, step);
      return tx;
    }
    case 'step-timeout': {
      if (step.status !== 'running' && step.status !== 'queued') return undefined;
      const tx = new Tx(state, at, limits);
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
      if (step.status === 'queued') return resendDispatch(new Tx(state, at, limits), step);
      return leaseExpired(new Tx(state, at, limits), step);
    }
    case 'sleep': {
      const wait = step.status === 'waiting' ? step.wait : undefined;
      if (wait?.kind !== 'sleep' || at < wait.until) return undefined;
      const tx = new Tx(state, at, limits);
      const ended = endAttempt(tx, step, 'completed', undefined, 'sleep', false);
      outputReady(tx, withoutLease(ended), { sleptMs: at - (step.startedAt ?? at), until: iso(wait.until) });
      return tx;
    }
    case 'wait-timeout': {
      const wait = step.status === 'waiting' ? step.wait : undefined;
      if (wait?.kind !== 'event' || at < wait.expiresAt) return undefined;
      const tx = new Tx(state, at, limits);
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
      const tx = new Tx(state, at, limits);
      if (review.onDeadline === 'escalate') escalate(tx, step, wait, review, {}, true);
      else applyDecision(tx, step, wait, review, { decision: review.onDeadline, actor: SYSTEM_ACTORS.deadline, comment: 'the review deadline passed' }, 'review-deadline');
      return tx;
    }
    case 'rate-limit': {
      const wait = step.status === 'waiting' ? step.wait : undefined;
      const limit = planIndex(state.plan).byId.get(itemParent(step.id) ?? step.id)?.rateLimit;
      if (wait?.kind !== 'rate' || wait.until === undefined || at < wait.until || !limit) return undefined;
      const tx = new Tx(state, at, limits);
      permitDue(tx, { ...step, wait }, wait.until, limit, (ready) => dispatch(tx, ready));
      return tx;
    }
    case 'review-escalation': {
      const wait = step.status === 'waiting' ? step.wait : undefined;
      const review = planIndex(state.plan).byId.get(step.id)?.review;
      const tier = wait?.kind === 'review' ? review?.escalation[wait.tier] : undefined;
      if (wait?.kind !== 'review' || review === undefined || tier === undefined || at < wait.openedAt + tier.afterMs) return undefined;
      const tx = new Tx(state, at, limits);
      escalate(tx, step, wait, review, {});
      return tx;
    }
  }
}
