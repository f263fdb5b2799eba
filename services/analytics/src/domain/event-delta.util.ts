import { DEFAULT_NAMESPACE, type LifecycleEvent } from '@weft/contracts';
import { itemParent } from '@weft/core';
import { AnalyticsError } from './analytics.errors';
import type { AggregateDelta, RunCounter, StepCounter } from './analytics.types';

export const HOUR_MS = 3_600_000;

/** Start of the UTC hour holding `ms`. */
export const hourOf = (ms: number): number => Math.floor(ms / HOUR_MS) * HOUR_MS;

/**
 * What a lifecycle event adds to the aggregates; undefined for events that count
 * nothing (queued, started, waiting, a review's escalation). Throws AnalyticsError INVALID_EVENT
 * for an event that can never be counted.
 */
export function deltaFor(event: LifecycleEvent): AggregateDelta | undefined {
  // A forEach item (`process[i]`) is not a step of its own: its retries and timeouts count for its
  // forEach step, its end does not (the forEach step's own end does, once per run).
  const forEachStep = event.stepId === undefined ? undefined : itemParent(event.stepId);
  if (forEachStep !== undefined && ITEM_ENDS.has(event.type)) return undefined;
  const at = Date.parse(event.at);
  if (Number.isNaN(at)) throw new AnalyticsError('INVALID_EVENT', `event ${event.eventId}: "at" is not a time (${JSON.stringify(event.at)})`);
  const bucket = hourOf(at);
  const namespace = event.namespace ?? DEFAULT_NAMESPACE;
  const run = (counter: RunCounter, durationMs?: number): AggregateDelta => ({
    kind: 'run',
    namespace,
    workflow: event.workflow,
    bucket,
    counter,
    ...(durationMs !== undefined && { durationMs }),
  });
  const step = (counter: StepCounter, extra: Partial<Extract<AggregateDelta, { kind: 'step' }>> = {}): AggregateDelta => {
    if (event.stepId === undefined || event.stepId === '') throw new AnalyticsError('INVALID_EVENT', `event ${event.eventId}: ${event.type} without a stepId`);
    return { kind: 'step', namespace, workflow: event.workflow, stepId: forEachStep ?? event.stepId, bucket, counter, ...extra };
  };
  const duration = validDuration(event);
  switch (event.type) {
    case 'run.started':
      return run(event.data?.['retry'] === true ? 'restarted' : 'started');
    case 'run.completed':
      return run('completed', duration);
    case 'run.partially_completed':
      return run('partiallyCompleted');
    case 'run.failed':
      return run('failed');
    case 'run.canceled':
      return run('canceled');
    case 'step.completed':
      return step('completed', duration === undefined ? {} : { durationMs: duration });
    case 'step.failed':
      return step('failed', { failedAt: at, ...(event.error && { error: { code: event.error.code, final: true } }) });
    case 'step.retrying':
      return step('retried', event.error ? { error: { code: event.error.code, final: false } } : {});
    case 'step.skipped':
      return step('skipped');
    case 'step.canceled':
      return step('canceled');
    case 'step.timed_out':
      return step('timedOut');
    case 'run.queued':
    case 'run.waiting':
    case 'step.queued':
    case 'step.started':
    case 'step.waiting':
      return undefined;
    case 'review.requested':
      return reviewOpened(event, namespace, at);
    case 'review.decided':
      return reviewDecided(event, namespace, at);
  }
}

/** Ends of a forEach item, which its forEach step's own end stands for in the aggregates. */
const ITEM_ENDS = new Set<string>(['step.completed', 'step.failed', 'step.skipped', 'step.canceled']);

/** The first review.requested of a review opens it; escalations and overdue marks repeat the event with a tier. */
function reviewOpened(event: LifecycleEvent, namespace: string, at: number): AggregateDelta | undefined {
  const data = event.data ?? {};
  const reviewId = data['reviewId'];
  if (typeof reviewId !== 'string' || reviewId === '') throw new AnalyticsError('INVALID_EVENT', `event ${event.eventId}: review.requested without a reviewId`);
  if (data['tier'] !== undefined || data['escalated'] !== undefined || data['overdue'] !== undefined) return undefined;
  return { kind: 'review-opened', namespace, reviewId, at };
}

/** A decision closes the review (an escalation is a review.requested, not a decision). */
function reviewDecided(event: LifecycleEvent, namespace: string, at: number): AggregateDelta | undefined {
  const data = event.data ?? {};
  const { reviewId, decision } = data;
  if (typeof reviewId !== 'string' || reviewId === '' || typeof decision !== 'string') {
    throw new AnalyticsError('INVALID_EVENT', `event ${event.eventId}: review.decided without a reviewId and a decision`);
  }
  if (event.stepId === undefined || event.stepId === '') throw new AnalyticsError('INVALID_EVENT', `event ${event.eventId}: review.decided without a stepId`);
  if (decision === 'escalate') return undefined;
  return { kind: 'review-decided', namespace, workflow: event.workflow, stepId: event.stepId, reviewId, decision, at };
}

function validDuration(event: LifecycleEvent): number | undefined {
  const duration = event.durationMs;
  if (duration === undefined) return undefined;
  if (!Number.isFinite(duration) || duration < 0) throw new AnalyticsError('INVALID_EVENT', `event ${event.eventId}: durationMs must be a non-negative number (got ${duration})`);
  return duration;
}
