import type { LifecycleEvent, LifecycleEventType, RunStatus, StepError, StepStatus } from '@weft/contracts';
import type { WorkflowSpec } from '@weft/core';

/**
 * The JSON shapes of the Weft HTTP API (GET /openapi.json describes them too). The
 * server's zod schemas are the source (the scheduler's, and JournalHttp and InsightsHttp
 * of @weft/contracts for the journal and insights); a compile-time test in the CLI
 * (libs/cli/src/api-client/api-types.spec.ts) checks that these stay equal to what they produce.
 */

export interface ErrorSummary {
  code: string;
  message: string;
}

export interface Workflow {
  id: string;
  namespace: string;
  name: string;
  description: string | null;
  draftRevision: number;
  hasDraft: boolean;
  publishedVersion: number | null;
  latestVersion: number | null;
  createdAt: string;
  updatedAt: string;
}

export interface Page<T> {
  items: T[];
  /** Pass as `cursor` for the next page; null on the last one. */
  nextCursor: string | null;
}

export interface Draft {
  workflowId: string;
  workflow: string;
  revision: number;
  spec: WorkflowSpec | null;
  updatedAt: string;
}

export interface Version {
  workflowId: string;
  workflow: string;
  version: number;
  hash: string;
  archived: boolean;
  published: boolean;
  createdAt: string;
}

export interface VersionDetail extends Version {
  spec: WorkflowSpec;
}

export interface Step {
  id: string;
  status: StepStatus;
  attempts: number;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  output: unknown;
  error: ErrorSummary | null;
  reusedFrom: string | null;
}

export interface RunSummary {
  runId: string;
  workflow: string;
  /** The stored version the run ran, or `adhoc`. */
  version: string;
  status: RunStatus;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  error: ErrorSummary | null;
  correlationId: string | null;
}

export interface Run extends RunSummary {
  namespace: string;
  inputs: Record<string, unknown>;
  outputs: Record<string, unknown> | null;
  rerunOf: { runId: string; fromStep: string | null } | null;
  steps: Step[];
  spec: WorkflowSpec;
}

export interface RunAccepted {
  runId: string;
  status: RunStatus;
  /** false: the idempotency key named an existing run, which this is. */
  created: boolean;
  location: string;
}

export interface RunOutput {
  runId: string;
  status: RunStatus;
  outputs: Record<string, unknown> | null;
  error: ErrorSummary | null;
}

export interface ResumeResult {
  run: Run;
  redispatched: string[];
  flushed: string[];
}

export interface ValidationDiagnostic {
  path: string;
  message: string;
  code: string;
  severity: 'error' | 'warning';
  line?: number;
  col?: number;
  hint?: string;
}

export interface ValidationResult {
  valid: boolean;
  name: string | null;
  diagnostics: ValidationDiagnostic[];
}

export interface CatalogAction {
  name: string;
  description: string | null;
  inputSchema: Record<string, unknown> | null;
  builtin: boolean;
  workers: number;
  queues: string[];
}

export interface Template {
  name: string;
  description: string;
  spec: WorkflowSpec;
}

export interface ApiKey {
  keyId: string;
  namespace: string;
  name: string | null;
  createdAt: string;
  revokedAt: string | null;
}

export interface CreatedApiKey extends ApiKey {
  /** The key itself: shown once. */
  key: string;
}

export interface ProblemFieldError {
  path: string;
  message: string;
  code?: string;
  line?: number;
  col?: number;
  hint?: string;
}

/** An RFC 7807 problem document, as every error of the API is. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  code: string;
  errors?: ProblemFieldError[];
}

/** What a run stream sends: the run first, each lifecycle event, then the finished run. */
export type RunStreamEvent = { type: 'snapshot'; run: Run } | { type: 'event'; event: LifecycleEvent } | { type: 'end'; run: Run };

// ---- the journal (`/v1/runs/{id}/history|events|checkpoints|reconstruct`, `/v1/events`):
// JournalHttp in @weft/contracts is the source. Times are ISO 8601; absent values are null.

/** One lifecycle event as the journal keeps it. */
export interface JournalEntry {
  /** `<runId>:<seq>:<n>`. */
  eventId: string;
  runId: string;
  workflow: string;
  /** The workflow version the run was started with. */
  version: string;
  stepId: string | null;
  attempt: number | null;
  type: LifecycleEventType;
  status: RunStatus | StepStatus;
  at: string;
  durationMs: number | null;
  error: StepError | null;
  correlationId: string | null;
  traceId: string | null;
  /** Event details (retry delay, skip reason, run outputs...); a completed step's output is in its checkpoint. */
  data: Record<string, unknown> | null;
  /** The scheduler's decision number. */
  seq: number;
  /** The event's index in its decision. */
  index: number;
}

/** A completed step's output, and everything the run had produced by then. */
export interface Checkpoint {
  runId: string;
  workflow: string;
  version: string;
  stepId: string;
  attempt: number | null;
  /** The step.completed event this checkpoint was taken from. */
  eventId: string;
  at: string;
  output: unknown;
  /** stepId -> output of every step completed up to and including this one. */
  state: Record<string, unknown>;
}

export interface AttemptHistory {
  attempt: number;
  status: 'queued' | 'running' | 'completed' | 'failed' | 'canceled';
  queuedAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  workerId: string | null;
  queue: string | null;
  action: string | null;
  error: StepError | null;
  timedOut: boolean;
  /** The attempt failed and the scheduler waited this long before the next one. */
  retryDelayMs: number | null;
}

export interface StepHistory {
  stepId: string;
  status: StepStatus;
  attempts: AttemptHistory[];
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  error: StepError | null;
  /** Why the step was skipped or canceled. */
  reason: string | null;
  /** From the step's checkpoint, when it completed. */
  output?: unknown;
}

/** A run as the journal folds it from its events (not the scheduler's RunSummary). */
export interface JournalRunSummary {
  runId: string;
  workflow: string;
  version: string;
  /** `unknown` when no run.* event is left (pruned). */
  status: RunStatus | 'unknown';
  correlationId: string | null;
  traceId: string | null;
  queuedAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  inputs: Record<string, unknown> | null;
  outputs: Record<string, unknown> | null;
  error: StepError | null;
  /** How many times the run was retried after finishing. */
  restarts: number;
  events: number;
}

/** Everything that happened to a run, from the journal alone. */
export interface RunReconstruction {
  run: JournalRunSummary;
  /** In the order the steps were first seen. */
  steps: StepHistory[];
  events: JournalEntry[];
  checkpoints: Checkpoint[];
  /** Gaps the reader should know about (e.g. the start was pruned). */
  notes: string[];
}

export interface TimelineItem {
  at: string;
  /** Since the run's first journaled event. */
  offsetMs: number;
  type: LifecycleEventType;
  stepId: string | null;
  attempt: number | null;
  status: RunStatus | StepStatus;
  durationMs: number | null;
  error: StepError | null;
  /** One readable line, e.g. "validate attempt 1 failed: HTTP_500 boom; retrying in 1s". */
  text: string;
}

/** The readable story of a run (what `weft history` prints). */
export interface RunHistory {
  run: JournalRunSummary;
  steps: StepHistory[];
  timeline: TimelineItem[];
  notes: string[];
}

// ---- insights (`/v1/insights`, `/v1/insights/hotspots|trends|steps`): InsightsHttp in
// @weft/contracts is the source. Rates are 0..1 and durations milliseconds; null when nothing counted.

/** The window an answer covers. */
export interface InsightsWindow {
  workflow: string | null;
  since: string;
  until: string;
}

/** Figures of one step of one workflow over the window. */
export interface StepStats {
  workflow: string;
  stepId: string;
  completed: number;
  /** Failed for good (after its retries). */
  failed: number;
  /** Failed attempts that were retried. */
  retried: number;
  skipped: number;
  canceled: number;
  timedOut: number;
  /** completed / (completed + failed) */
  successRate: number | null;
  /** retried / (completed + failed) */
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
  /** failures / (completed + failures) */
  failureRate: number | null;
  /** The error code seen most on the step's failed attempts. */
  topError: { code: string; count: number } | null;
  lastFailureAt: string | null;
}

export interface TrendPoint {
  /** Start of the bucket. */
  at: string;
  /** Runs that finished in the bucket (any outcome). */
  finished: number;
  completed: number;
  failed: number;
  /** Mean duration of the runs that completed in the bucket. */
  avgMs: number | null;
  /** Mean over this bucket and the window - 1 before it, weighted by runs. */
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
  /** completed / finished */
  successRate: number | null;
  /** Of completed runs. */
  avgMs: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
}

/** `GET /v1/insights`. */
export interface InsightSummary {
  window: InsightsWindow;
  runs: RunFigures;
  steps: StepStats[];
  hotspots: Hotspot[];
  /** Top steps by p95 duration. */
  slowest: StepStats[];
  /** Top steps by retry rate (only steps that retried). */
  flaky: StepStats[];
  trend: DurationTrend;
  /** The headline findings, one sentence each. */
  findings: string[];
}

/** `GET /v1/insights/hotspots`. */
export interface InsightHotspots {
  window: InsightsWindow;
  hotspots: Hotspot[];
}

/** `GET /v1/insights/trends`. */
export interface InsightTrend {
  window: InsightsWindow;
  trend: DurationTrend;
}

/** `GET /v1/insights/steps`. */
export interface InsightSteps {
  window: InsightsWindow;
  steps: StepStats[];
}
