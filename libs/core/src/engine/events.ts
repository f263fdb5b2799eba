import type { Actor, LifecycleEventType, ReceivedSignal, ReviewDecision } from '@weft/contracts';
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
  | { type: 'run.retry'; at: Millis; reason?: string }
  /**
   * A stored signal for a step waiting on an event (`token` is the wait's). The core checks
   * name, key and `match` again, so a signal that does not satisfy the wait changes nothing.
   */
  | { type: 'signal.received'; at: Millis; stepId: string; token: string; signal: ReceivedSignal }
  /** The shell granted the step the concurrency slot it asked for (`token`: the acquire-slot's). */
  | { type: 'slot.granted'; at: Millis; stepId: string; token: string }
  /**
   * A concurrency strategy took the step's slot away (cancel-in-progress) or refused its request
   * (cancel-newest): the attempt is aborted and the step fails with CONCURRENCY_CANCELED (`token`: the acquire-slot's).
   */
  | { type: 'slot.revoked'; at: Millis; stepId: string; token: string; reason: string }
  /**
   * The shell reserved a rate-limit permit for the step's request (`token`: the acquire-rate's):
   * the attempt may start at `notBefore` (database time; at once when it is not after `at`).
   */
  | { type: 'rate.granted'; at: Millis; stepId: string; token: string; notBefore: Millis }
  /**
   * A reviewer's decision (validated by the shell: a correction already satisfies the form).
   * A decision for a review that is no longer open changes nothing.
   */
  | {
      type: 'review.decided';
      at: Millis;
      stepId: string;
      reviewId: string;
      decision: ReviewDecision;
      payload?: unknown;
      comment?: string;
      actor: Actor;
      /** Names this decision (the shell's id): the state and close-review carry it, so a caller can tell whether its decision was the one applied. */
      decisionId?: string;
      /** escalate: the tier the decider saw; another tier by now (a concurrent escalation) makes it a no-op. */
      fromTier?: number;
    };

/**
 * `sleep`: a durable sleep is due. `wait-timeout`: a wait for a signal gave up.
 * `review-deadline` / `review-escalation`: a review's deadline or next escalation tier is due.
 * `rate-limit`: a step's rate-limit permit is due.
 */
export type TimerKind = 'retry' | 'step-timeout' | 'lease' | 'run-timeout' | 'sleep' | 'wait-timeout' | 'review-deadline' | 'review-escalation' | 'rate-limit';

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
  /**
   * Tell executors to abort every in-flight attempt of the run (run cancel, run timeout,
   * fail-fast): one message whatever the run's size. `steps`: the attempts it stops, so a
   * dispatch of one of them in the same decision is recalled with it (never sent).
   */
  | { type: 'abort-run'; reason: string; steps: { stepId: string; attempt: number; token: string }[] }
  | { type: 'emit'; event: LifecycleEventDraft }
  /**
   * Store a wait for a signal and look for one already stored since `since` (epoch ms; the
   * step's start minus its lookback). Both directions meet under one lock per (namespace,
   * name, key) so a wait and a signal meet exactly once.
   */
  | { type: 'register-wait'; stepId: string; attempt: number; token: string; name: string; key?: string; since: Millis; expiresAt: Millis }
  /** Drop the step's stored signal wait (satisfied, timed out or canceled). */
  | { type: 'cancel-wait'; stepId: string; token: string }
  /** Store an open review of a step's output. `reviewId` is stable (the attempt's token): replaying the command opens nothing new. */
  | {
      type: 'open-review';
      reviewId: string;
      stepId: string;
      attempt: number;
      title: string;
      instructions?: string;
      assignees: string[];
      form?: Record<string, unknown>;
      output: unknown;
      deadlineAt?: Millis;
      /** Opened by a `when` rule (a low-confidence output). */
      byRule: boolean;
    }
  /**
   * Start the child run `childRunId` of a `workflow` step, idempotent by `token` (the parent
   * attempt's `<run>:<step>:<attempt>`): written with the transition, so exactly one child exists.
   */
  | {
      type: 'start-child';
      stepId: string;
      attempt: number;
      token: string;
      childRunId: string;
      workflow: string;
      version?: string;
      inputs: Record<string, unknown>;
      /** The child's depth (the parent's + 1). */
      depth: number;
    }
  /**
   * Queue for a concurrency slot of (scope, key) with at most `limit` holders across runs; the
   * shell answers with slot.granted. Idempotent by `token`.
   */
  | {
      type: 'acquire-slot';
      /** RUN_SLOT_STEP for a workflow's own limit (the run waits, not a step). */
      stepId: string;
      token: string;
      scope: string;
      key: string;
      limit: number;
      priority: number;
      /** What a request over the limit does (a workflow limit's strategy). @default queue */
      strategy?: 'queue' | 'cancel-in-progress' | 'cancel-newest';
    }
  /** The step ended: give its slot back (or drop its place in the queue). Idempotent by `token`. */
  | { type: 'release-slot'; stepId: string; token: string; scope: string; key: string }
  /**
   * Reserve a rate-limit permit of (scope, key): at most `limit` starts per `periodMs` across runs
   * (GCRA with `burst`); the shell answers with rate.granted. One request per `token`.
   */
  | { type: 'acquire-rate'; stepId: string; token: string; scope: string; key: string; limit: number; periodMs: number; burst: number }
  /** Cancel a child run (its parent step was canceled, or the parent ended). */
  | { type: 'cancel-child'; stepId: string; childRunId: string; reason: string }
  /** This run is a child and ended: report it to the parent's waiting step (as that attempt's result). */
  | { type: 'notify-parent'; parent: { runId: string; stepId: string; attempt: number; token: string }; status: RunStatus; outputs?: Record<string, unknown>; error?: StepError }
  /** The review moved to escalation tier `tier` (assignees replaced). */
  | { type: 'escalate-review'; reviewId: string; tier: number; assignees: string[]; overdue?: boolean; decisionId?: string }
  /** The review is over: decided (the decision is the shell's to record), or closed by the run (canceled, run ended). */
  | {
      type: 'close-review';
      reviewId: string;
      outcome: 'decided' | 'canceled';
      decision?: ReviewDecision;
      actor?: Actor;
      comment?: string;
      payload?: unknown;
      decisionId?: string;
    };

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
