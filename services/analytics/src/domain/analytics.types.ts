/** Counters kept per (workflow, step, hour). One lifecycle event bumps exactly one. */
export const STEP_COUNTERS = ['completed', 'failed', 'retried', 'skipped', 'canceled', 'timedOut'] as const;
export type StepCounter = (typeof STEP_COUNTERS)[number];

/** Counters kept per (workflow, hour). */
export const RUN_COUNTERS = ['started', 'restarted', 'completed', 'partiallyCompleted', 'failed', 'canceled'] as const;
export type RunCounter = (typeof RUN_COUNTERS)[number];

/** What one lifecycle event adds to the aggregates. `bucket` is the start of its hour (epoch ms, UTC). */
export type AggregateDelta =
  | {
      kind: 'step';
      /** The run's namespace (events of older producers carry none: `default`). */
      namespace: string;
      workflow: string;
      stepId: string;
      bucket: number;
      counter: StepCounter;
      /** Completed steps: the last attempt's duration, into the step's sketch. */
      durationMs?: number;
      /** Failed attempts (retried or final): their error code. */
      error?: { code: string; final: boolean };
      /** Event time of a final failure. */
      failedAt?: number;
    }
  | {
      kind: 'run';
      namespace: string;
      workflow: string;
      bucket: number;
      counter: RunCounter;
      /** Completed runs: the run's duration, into the run sketch and the trend. */
      durationMs?: number;
    }
  /** A review opened (its first review.requested, not an escalation): when, epoch ms. */
  | { kind: 'review-opened'; namespace: string; reviewId: string; at: number; durationMs?: undefined }
  /** A review decided (review.decided): by what decision, when (epoch ms). */
  | { kind: 'review-decided'; namespace: string; workflow: string; stepId: string; reviewId: string; decision: string; at: number; durationMs?: undefined };

/** A query window: epoch ms, `since` rounded down to its hour, `until` exclusive. */
export interface InsightWindow {
  /** Only this namespace's runs (the HTTP API always sets the caller's). Absent: every namespace, summed by workflow name. */
  namespace?: string;
  workflow?: string;
  since: number;
  until: number;
}

/** One step's counters (STEP_COUNTERS) summed over a window. */
export interface StepCounts {
  completed: number;
  /** Failed for good (after its retries). */
  failed: number;
  /** Failed attempts that were retried. */
  retried: number;
  skipped: number;
  canceled: number;
  timedOut: number;
}

/** Figures of one step of one workflow over a window. Rates are 0..1; null when nothing finished. */
export interface StepStats extends StepCounts {
  workflow: string;
  stepId: string;
  /** completed / (completed + failed). */
  successRate: number | null;
  /** Retries per finished execution: retried / (completed + failed). */
  retryRate: number | null;
  /** Of completed executions (their last attempt). */
  avgMs: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
  minMs: number | null;
  maxMs: number | null;
}

export interface Hotspot {
  workflow: string;
  stepId: string;
  failures: number;
  retries: number;
  completed: number;
  /** failures / (completed + failures). */
  failureRate: number | null;
  /** The error code seen most on this step's failed attempts, with its count. */
  topError: { code: string; count: number } | null;
  lastFailureAt: string | null;
}

export interface TrendPoint {
  /** Start of the bucket, ISO 8601. */
  at: string;
  /** Runs that finished in the bucket (any outcome). */
  finished: number;
  completed: number;
  failed: number;
  /** Mean duration of the runs that completed in the bucket. */
  avgMs: number | null;
  /** Mean over this bucket and the `window - 1` before it, weighted by runs. */
  movingAvgMs: number | null;
}

export interface DurationTrend {
  granularity: 'hour' | 'day';
  /** Buckets averaged by the moving average. */
  window: number;
  points: TrendPoint[];
  /** Relative change of the moving average from its first to its last value. */
  change: number | null;
  direction: 'slower' | 'faster' | 'steady' | 'unknown';
}

export interface RunFigures {
  started: number;
  finished: number;
  completed: number;
  partiallyCompleted: number;
  failed: number;
  canceled: number;
  /** completed / finished. */
  successRate: number | null;
  /** Of completed runs. */
  avgMs: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
}

/** Review gates of one step over the decisions of a window. Rates 0..1; null when nothing was decided or timed. */
export interface ReviewStats {
  workflow: string;
  stepId: string;
  decided: number;
  rejected: number;
  /** rejected / decided. */
  rejectionRate: number | null;
  /** Time to decision (review.requested -> review.decided) of the decisions whose opening was seen. */
  avgMs: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
}

export interface InsightSummary {
  window: { workflow: string | null; since: string; until: string };
  runs: RunFigures;
  steps: StepStats[];
  hotspots: Hotspot[];
  /** Top steps by p95 duration. */
  slowest: StepStats[];
  /** Top steps by retry rate (only steps that retried). */
  flaky: StepStats[];
  trend: DurationTrend;
  /** Reviewed steps: time to decision and rejection rate. */
  reviews: ReviewStats[];
  /** The headline findings, one sentence each. */
  findings: string[];
}
