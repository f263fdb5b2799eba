import { DEFAULT_NAMESPACE, type LifecycleEvent } from '@weft/contracts';
import { AnalyticsError } from './analytics.errors';
import type { AggregateDelta, RunCounter, StepCounter } from './analytics.types';

export const HOUR_MS = 3_600_000;

/** Start of the UTC hour holding `ms`. */
export const hourOf = (ms: number): number => Math.floor(ms / HOUR_MS) * HOUR_MS;

/**
 * What a lifecycle event adds to the aggregates; undefined for events that count
 * nothing (queued, started, waiting, reviews). Throws AnalyticsError INVALID_EVENT
 * for an event that can never be counted.
 */
export function deltaFor(event: LifecycleEvent): AggregateDelta | undefined {
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
    return { kind: 'step', namespace, workflow: event.workflow, stepId: event.stepId, bucket, counter, ...extra };
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
    case 'review.requested':
    case 'review.decided':
      return undefined;
  }
}

function validDuration(event: LifecycleEvent): number | undefined {
  const duration = event.durationMs;
  if (duration === undefined) return undefined;
  if (!Number.isFinite(duration) || duration < 0) throw new AnalyticsError('INVALID_EVENT', `event ${event.eventId}: durationMs must be a non-negative number (got ${duration})`);
  return duration;
}
