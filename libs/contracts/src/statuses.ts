import { z } from 'zod';

export const RUN_STATUSES = ['queued', 'running', 'waiting', 'completed', 'partially_completed', 'failed', 'canceled'] as const;
export const RunStatus = z.enum(RUN_STATUSES);
export type RunStatus = z.infer<typeof RunStatus>;
export const TERMINAL_RUN_STATUSES: readonly RunStatus[] = ['completed', 'partially_completed', 'failed', 'canceled'];

/** `partially_completed`: a forEach step under `onFailure: continue` whose items did not all complete (docs/flow-control.md). */
export const STEP_STATUSES = ['pending', 'queued', 'running', 'retrying', 'completed', 'failed', 'skipped', 'canceled', 'waiting', 'partially_completed'] as const;
export const StepStatus = z.enum(STEP_STATUSES);
export type StepStatus = z.infer<typeof StepStatus>;
export const TERMINAL_STEP_STATUSES: readonly StepStatus[] = ['completed', 'failed', 'skipped', 'canceled', 'partially_completed'];

/** A step or run error. `code` is stable and machine-readable (e.g. TIMEOUT, HTTP_500, CANCELED). */
export const StepError = z.object({
  code: z.string().min(1),
  message: z.string(),
  /** false marks an error that is never retried, whatever the policy says. */
  retryable: z.boolean().optional(),
});
export type StepError = z.infer<typeof StepError>;

/** Lifecycle event types published on `weft.event.<type>` and journaled. */
export const LIFECYCLE_EVENT_TYPES = [
  'run.queued',
  'run.started',
  'run.waiting',
  'run.completed',
  'run.partially_completed',
  'run.failed',
  'run.canceled',
  'step.queued',
  'step.started',
  'step.completed',
  'step.failed',
  'step.retrying',
  'step.skipped',
  'step.canceled',
  'step.timed_out',
  /** A step began to wait: a durable sleep or a wait for a signal (`data.wait`: sleep | event). Reviews use review.requested. */
  'step.waiting',
  'review.requested',
  'review.decided',
] as const;
export const LifecycleEventType = z.enum(LIFECYCLE_EVENT_TYPES);
export type LifecycleEventType = z.infer<typeof LifecycleEventType>;
