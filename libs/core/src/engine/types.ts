import type { Actor, RunStatus, StepError, StepStatus } from '@weft/contracts';
import type { WorkflowSpec } from '../workflow-spec/spec.schema';

export type { RunStatus, StepError, StepStatus };
export { RUN_STATUSES, STEP_STATUSES, TERMINAL_RUN_STATUSES, TERMINAL_STEP_STATUSES } from '@weft/contracts';

/** Times are epoch milliseconds from the database clock, carried in on events. */
export type Millis = number;

/** Retry policy with every default applied. Intervals in milliseconds. */
export interface ResolvedRetry {
  maxAttempts: number;
  backoff: 'fixed' | 'exponential';
  initialIntervalMs: number;
  maxIntervalMs: number;
  multiplier: number;
  jitter: boolean;
  nonRetryable: string[];
}

/** A step of a run with defaults resolved; built once when the run is created. */
export interface PlannedStep {
  id: string;
  needs: string[];
  action: string;
  with: Record<string, unknown>;
  if?: string;
  timeoutMs: number;
  retry: ResolvedRetry;
  queue: string;
  onFailure: 'fail-fast' | 'continue';
  /** The review gate its output passes before dependents see it. */
  review?: PlannedReview;
  /** CEL yielding the list a forEach step runs its action over (evaluated when the step is ready). */
  forEach?: string;
  /** forEach: items in flight at most. @default FOR_EACH_DEFAULT_CONCURRENCY */
  concurrency?: number;
  /** `concurrency: { limit, key }`: each attempt (each item) holds a slot of its key, across runs. `key` is a template ('' for one key). */
  slot?: { limit: number; key: string; priority: number; strategy?: 'cancel-in-progress' | 'cancel-newest' };
  /** `rateLimit: { limit, period, key, burst }`: each attempt (each item) starts only with a permit of its key, across runs. */
  rateLimit?: PlannedRateLimit;
}

/** A step's rate limit with its period resolved: at most `limit` starts per `periodMs` per key (GCRA, see rate-limit.util). */
export interface PlannedRateLimit {
  limit: number;
  periodMs: number;
  /** A template ('' for one key). */
  key: string;
  /** Starts that may go at once after an idle time. @default 1 */
  burst: number;
}

/** A forEach step's progress, kept on the step while its items run (docs/flow-control.md). */
export interface ForEachProgress {
  total: number;
  /** Items at most in flight (queued, running or retrying). */
  concurrency: number;
  /** Items dispatched so far, in index order: items [0, started) have started. */
  started: number;
  completed: number;
  failed: number;
  canceled: number;
}

/** What makes a step entry an item of a forEach step (its id is `<step>[<index>]`). */
export interface ItemRef {
  /** The forEach step. */
  of: string;
  index: number;
  value: unknown;
}

/** What a review does when its deadline passes. */
export type ReviewDeadlineAction = 'reject' | 'continue' | 'escalate';

/** A step's `review:` with durations resolved (milliseconds). */
export interface PlannedReview {
  /** CEL over `output` (and the run scope); absent means every output is reviewed. */
  when?: string;
  /** Templates over `output` and the run scope. */
  title?: string;
  instructions?: string;
  assignees: string[];
  /** JSON Schema a correction must satisfy (checked by the shell before the decision reaches the core). */
  form?: Record<string, unknown>;
  /** From the review's opening. */
  deadlineMs?: number;
  /** Tiers in order; `afterMs` counts from the review's opening. */
  escalation: { afterMs: number; assignees: string[] }[];
  /** @default reject */
  onDeadline: ReviewDeadlineAction;
}

/**
 * The one condition a `waiting` step waits for. The shell keeps it as rows the database can
 * find (a timer, a signal wait, a review); its wake-up comes back as an ordinary event.
 */
export type StepWait =
  /** `action: sleep`: the `sleep` timer fires at `until`. */
  | { kind: 'sleep'; until: Millis }
  /** `action: wait.event`: the first signal named `name` (with `key`, when set) received since `since` for which `match` holds. */
  | { kind: 'event'; name: string; key?: string; match?: string; since: Millis; expiresAt: Millis }
  /** `review:`: the attempt's output, held until a decision. */
  | {
      kind: 'review';
      reviewId: string;
      output: unknown;
      openedAt: Millis;
      deadlineAt?: Millis;
      /** 0 before any escalation; tier n uses escalation[n - 1]'s assignees. */
      tier: number;
      assignees: string[];
      /** Opened by a `when` rule (a low-confidence output), not by an unconditional gate. */
      byRule: boolean;
      /** The deadline passed at the last tier with onDeadline escalate: somebody has to look. */
      overdue?: boolean;
    }
  /** `concurrency: { limit, key }`: a slot of `key` is granted (by the shell, across runs). */
  | { kind: 'slot'; scope: string; key: string; limit: number; priority: number }
  /**
   * `rateLimit`: a permit of `key` (asked by an acquire-rate command). `until`: the permit's time once
   * the shell answered (a rate-limit timer fires then); absent while the request is on its way.
   * `asks`: requests made for this attempt (a permit used too late is given up and asked again). Absent means 1.
   */
  | { kind: 'rate'; scope: string; key: string; limit: number; periodMs: number; until?: Millis; asks?: number }
  /** `action: workflow`: the child run `childRunId` (started by a start-child command) ends. */
  | { kind: 'child'; childRunId: string; workflow: string; version?: string; inputs: Record<string, unknown> };

export interface AttemptRecord {
  attempt: number;
  /** `queued` until a worker reports it started. */
  status: 'queued' | 'running' | 'completed' | 'failed' | 'canceled';
  dispatchedAt: Millis;
  startedAt?: Millis;
  finishedAt?: Millis;
  workerId?: string;
  error?: StepError;
}

export interface StepState {
  id: string;
  status: StepStatus;
  /** Number of the current (or last) attempt; 0 before the first dispatch. */
  attempt: number;
  /** Fencing token of the current attempt; results carrying another token are stale. */
  token?: string;
  queuedAt?: Millis;
  startedAt?: Millis;
  finishedAt?: Millis;
  /** When the scheduler gives up on a silent worker (dispatch or last heartbeat + lease). */
  leaseExpiresAt?: Millis;
  /** When a retrying step is dispatched again. */
  nextAttemptAt?: Millis;
  output?: unknown;
  error?: StepError;
  attempts: AttemptRecord[];
  /** Why a step was skipped or canceled. */
  reason?: string;
  /**
   * Attempts re-dispatched because their lease expired (worker presumed lost);
   * they do not count against the retry budget. Absent means 0.
   */
  lostLeases?: number;
  /** Times the current attempt's dispatch was sent again while still queued. */
  resent?: number;
  /**
   * Attempt number before the last `run.retry`: the retry budget counts attempts
   * after it, while attempt numbers (and so tokens) keep increasing. Absent means 0.
   */
  attemptBase?: number;
  /** The run whose output this step took over instead of running (a rerun from a later step). */
  reusedFrom?: string;
  /** Set while the step is `waiting`. */
  wait?: StepWait;
  /** The concurrency slot the step holds (from its grant until it ends). */
  slot?: { token: string; scope: string; key: string };
  /** The attempt number a rate-limit permit was granted for (the next dispatch of that attempt uses it up). */
  ratePermit?: number;
  /** A forEach step: its items' progress (the items are entries of their own, see `item`). */
  forEach?: ForEachProgress;
  /** An item of a forEach step: not in the plan, attempt-tracked like a step. */
  item?: ItemRef;
  /** The last review decision that let the step go on (continue, correct) or ended it (reject). */
  review?: { reviewId: string; decision: string; actor: Actor; at: Millis; comment?: string; decisionId?: string };
}

/** What a run queued for its workflow's concurrency slot waits for. */
export interface RunAdmission {
  token: string;
  /** The workflow's name. */
  scope: string;
  key: string;
  limit: number;
  strategy: 'queue' | 'cancel-in-progress' | 'cancel-newest';
  since: Millis;
  /** Admitted after a run.retry (its run.started event says so). */
  retry?: boolean;
}

export interface RunState {
  runId: string;
  workflow: string;
  version: string;
  spec: WorkflowSpec;
  /** Steps with defaults resolved, in a topological order. */
  plan: PlannedStep[];
  steps: Record<string, StepState>;
  status: RunStatus;
  inputs: Record<string, unknown>;
  outputs?: Record<string, unknown>;
  error?: StepError;
  createdAt: Millis;
  startedAt?: Millis;
  finishedAt?: Millis;
  deadlineAt?: Millis;
  correlationId?: string;
  /** The namespace the run belongs to (carried on its lifecycle events). */
  namespace: string;
  /** Who asked for the run: api, cli, trigger:<id>, rerun:<runId>, parent:<runId> (as its request said). */
  source?: string;
  /** Who asked, when a key or a local caller did (the API key's id and name, or `local`). */
  actor?: Actor;
  /** A child run (`action: workflow`): the parent step it reports its end to. */
  parent?: { runId: string; stepId: string; attempt: number; token: string };
  /** Runs above this one (a root run is 0; WEFT_MAX_RUN_DEPTH bounds it). Absent means 0. */
  depth?: number;
  /** A run of a workflow with `concurrency`: queued for a slot of its key (acquire-slot for step RUN_SLOT_STEP), until granted. */
  admission?: RunAdmission;
  /** The workflow concurrency slot the run holds, from its grant until it ends. */
  slot?: { token: string; scope: string; key: string };
  /** Bumped on every decided event; the store uses it for optimistic concurrency. */
  seq: number;
}
