import type { LifecycleEvent } from '@weft/contracts';

const BASE = Date.parse('2026-01-05T10:00:00.000Z');

/** A lifecycle event as the scheduler publishes it (`<runId>:<seq>:<n>` ids), `offsetMs` after 10:00. */
export function lifecycleEvent(runId: string, seq: number, index: number, offsetMs: number, fields: Pick<LifecycleEvent, 'type' | 'status'> & Partial<LifecycleEvent>): LifecycleEvent {
  return {
    eventId: `${runId}:${seq}:${index}`,
    runId,
    workflow: 'data-pipeline',
    version: '3',
    at: new Date(BASE + offsetMs).toISOString(),
    correlationId: `corr-${runId}`,
    ...fields,
  };
}

/**
 * A whole run, in publication order: ingest completes; validate fails once
 * (HTTP_500), is retried and completes; notify is skipped (condition false);
 * export times out, then fails for good; the run ends partially completed.
 */
export function storyOfARun(runId: string): LifecycleEvent[] {
  const e = (seq: number, index: number, offsetMs: number, fields: Pick<LifecycleEvent, 'type' | 'status'> & Partial<LifecycleEvent>) =>
    lifecycleEvent(runId, seq, index, offsetMs, fields);
  return [
    e(1, 0, 0, { type: 'run.queued', status: 'queued', data: { version: '3', inputs: { source: 's3://bucket/batch' } } }),
    e(2, 0, 0, { type: 'run.started', status: 'running' }),
    e(2, 1, 0, { type: 'step.queued', status: 'queued', stepId: 'ingest', attempt: 1, data: { queue: 'default', action: 'http.request' } }),
    e(3, 0, 10, { type: 'step.started', status: 'running', stepId: 'ingest', attempt: 1, data: { workerId: 'w-1' } }),
    e(4, 0, 110, { type: 'step.completed', status: 'completed', stepId: 'ingest', attempt: 1, durationMs: 100, data: { output: { rows: 3 } } }),
    e(4, 1, 110, { type: 'step.queued', status: 'queued', stepId: 'validate', attempt: 1, data: { queue: 'default', action: 'validate-records' } }),
    e(4, 2, 110, { type: 'step.skipped', status: 'skipped', stepId: 'notify', data: { reason: 'condition is false' } }),
    e(5, 0, 120, { type: 'step.started', status: 'running', stepId: 'validate', attempt: 1, data: { workerId: 'w-2' } }),
    e(6, 0, 170, {
      type: 'step.retrying',
      status: 'retrying',
      stepId: 'validate',
      attempt: 1,
      error: { code: 'HTTP_500', message: 'upstream exploded' },
      data: { delayMs: 1000, nextAttempt: 2 },
    }),
    e(7, 0, 1170, { type: 'step.queued', status: 'queued', stepId: 'validate', attempt: 2, data: { queue: 'default', action: 'validate-records' } }),
    e(8, 0, 1180, { type: 'step.started', status: 'running', stepId: 'validate', attempt: 2, data: { workerId: 'w-1' } }),
    e(9, 0, 1380, { type: 'step.completed', status: 'completed', stepId: 'validate', attempt: 2, durationMs: 200, data: { output: { valid: true } } }),
    e(9, 1, 1380, { type: 'step.queued', status: 'queued', stepId: 'export', attempt: 1, data: { queue: 'io', action: 'export' } }),
    e(10, 0, 1390, { type: 'step.started', status: 'running', stepId: 'export', attempt: 1, data: { workerId: 'w-2' } }),
    e(11, 0, 2390, {
      type: 'step.timed_out',
      status: 'running',
      stepId: 'export',
      attempt: 1,
      error: { code: 'TIMEOUT', message: 'attempt 1 timed out after 1000ms', retryable: true },
      data: { timeoutMs: 1000 },
    }),
    e(11, 1, 2390, { type: 'step.failed', status: 'failed', stepId: 'export', attempt: 1, durationMs: 1000, error: { code: 'TIMEOUT', message: 'attempt 1 timed out after 1000ms', retryable: true } }),
    e(11, 2, 2390, {
      type: 'run.partially_completed',
      status: 'partially_completed',
      durationMs: 2390,
      error: { code: 'STEPS_FAILED', message: '1 step(s) failed: export', retryable: false },
    }),
  ];
}

/** Bounded polling: resolves once `predicate` holds, rejects after `ms`. */
export async function waitFor(predicate: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
