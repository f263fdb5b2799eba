import type { LifecycleEventType } from '@weft/contracts';
import type { Millis, RunStatus, StepError, StepStatus } from './types';

/**
 * What happened, as the scheduler tells the state machine. Every event carries
 * `at`, the database time it is decided at: the core never reads a clock.
 */
export type EngineEvent =
  | { type: 'run.start'; at: Millis }
  | { type: 'step.started'; at: Millis; stepId: string; attempt: number; token: string; workerId?: string }
  | { type: 'step.heartbeat'; at: Millis; stepId: string; attempt: number; token: string }
  /**
   * A result. For an attempt still `queued` (its started heartbeat was never sent, as for a
   * step shorter than the executor's started-report delay, or has not arrived yet) it counts
   * as started and finished at `at`: step.started, then the outcome's events. `workerId` goes
   * on that step.started, as a started heartbeat's does.
   */
  | { type: 'step.completed'; at: Millis; stepId: string; attempt: number; token: string; output: unknown; workerId?: string }
  | { type: 'step.failed'; at: Millis; stepId: string; attempt: number; token: string; error: StepError; workerId?: string }
  /** `lease` is fired by the scheduler's lease scan (steps whose leaseExpiresAt passed), not by a scheduled timer. */
  | { type: 'timer.fired'; at: Millis; timer: TimerKind; stepId?: string; attempt?: number }
  | { type: 'run.cancel'; at: Millis; reason?: string }
  /**
   * The scheduler knows the attempt's worker is gone before its lease runs out
   * (embedded mode restarted: nothing from the old process can still be running).
   * Handled like an expired lease.
   */
  | { type: 'step.lost'; at: Millis; stepId: string; attempt: number }
  /**
   * Re-runs a finished run that did not complete: its failed, canceled and skipped
   * steps go back to pending with fresh retry budgets (attempt numbers keep
   * counting), their `if`s are evaluated again, and the run is running again.
   * A no-op for completed or unfinished runs.
   */
  | { type: 'run.retry'; at: Millis; reason?: string };

export type TimerKind = 'retry' | 'step-timeout' | 'lease' | 'run-timeout';

/** What the scheduler must do after persisting the new state (via the outbox). */
export type Command =
  | {
      type: 'dispatch';
      stepId: string;
      attempt: number;
      token: string;
      action: string;
      input: Record<string, unknown>;
      queue: string;
      timeoutMs: number;
      /**
       * Set when the same attempt is sent again because nobody took it within its
       * lease (a backed-up queue, or a message the broker lost): 1, 2, ...
       */
      resend?: number;
    }
  | { type: 'schedule-timer'; timer: TimerKind; fireAt: Millis; stepId?: string; attempt?: number }
  | { type: 'cancel-timer'; timer: TimerKind; stepId?: string }
  /** Tell executors to abort an in-flight attempt (cancel, run timeout, fail-fast). */
  | { type: 'abort-step'; stepId: string; attempt: number; token: string; reason: string }
  | { type: 'emit'; event: LifecycleEventDraft };

/** A lifecycle event as the core produces it; the scheduler adds ids, workflow and trace context. */
export interface LifecycleEventDraft {
  type: LifecycleEventType;
  at: Millis;
  stepId?: string;
  attempt?: number;
  status: RunStatus | StepStatus;
  durationMs?: number;
  error?: StepError;
  /** Small event-specific details (e.g. the retry delay, a step's output on completion). */
  data?: Record<string, unknown>;
}

export interface Decision<S> {
  state: S;
  commands: Command[];
}
