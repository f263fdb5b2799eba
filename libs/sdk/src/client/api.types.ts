import type { InsightsHttp, JournalHttp, LifecycleEvent, ProblemDocument, RunStatus } from '@weft/contracts';
import type { z } from 'zod';
import type { StepView, WorkflowSpec } from '@weft/core';

/**
 * The JSON shapes of the Weft HTTP API (GET /openapi.json describes them too). The
 * server's zod schemas are the source (the scheduler's, and JournalHttp and InsightsHttp
 * of @weft/contracts for the journal and insights, whose types are inferred from them here);
 * a compile-time test in the CLI (libs/cli/src/api-client/api-types.spec.ts) checks that the
 * scheduler's stay equal to what its schemas produce.
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

/** A step of a run: the core's one step view, plus where a rerun took its output from. */
export interface Step extends StepView {
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
  /** Runs re-run from this one (the newest 50), oldest first: the forward side of rerunOf. */
  reruns: { runId: string; fromStep: string | null; createdAt: string }[];
  /** Who asked for the run: api, cli, trigger:<id>, rerun:<runId>, parent:<runId> (null for older runs). */
  source: string | null;
  /** The API key (id and name) or `local` caller that started the run; null when no caller did (triggers, signals, child runs) and for older runs. */
  actor: { keyId: string; name: string } | 'local' | null;
  /** A child run (action: workflow): the run whose step started it. */
  parentRunId: string | null;
  /** Child runs its workflow steps started, one per attempt, in step order. */
  children: { stepId: string; attempt: number; runId: string }[];
  steps: Step[];
  spec: WorkflowSpec;
}

/** `GET /v1/runs/{id}/steps/{step}/input`: a step's input as evaluated, beside its `with:` as written. */
export interface StepInput {
  runId: string;
  stepId: string;
  action: string;
  with: Record<string, unknown>;
  /** What its action was given (for transform: `{ value }`); null when `reason` says why there is none. */
  input: Record<string, unknown> | null;
  reason: string | null;
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
export interface Problem extends ProblemDocument {
  errors?: ProblemFieldError[];
}

/** What a run stream sends: the run first, each lifecycle event, then the finished run. */
export type RunStreamEvent = { type: 'snapshot'; run: Run } | { type: 'event'; event: LifecycleEvent } | { type: 'end'; run: Run };

// ---- the journal (`/v1/runs/{id}/history|events|checkpoints|reconstruct`, `/v1/events`) and
// insights (`/v1/insights*`): JournalHttp and InsightsHttp of @weft/contracts are the source,
// shared with the services that answer. Times are ISO 8601; absent values are null.

/** One lifecycle event as the journal keeps it; a completed step's output is in its checkpoint. */
export type JournalEntry = z.infer<typeof JournalHttp.JournalEntry>;
/** A completed step's output and the outputs of every step completed up to it. */
export type Checkpoint = z.infer<typeof JournalHttp.Checkpoint>;
export type AttemptHistory = z.infer<typeof JournalHttp.AttemptHistory>;
export type StepHistory = z.infer<typeof JournalHttp.StepHistory>;
export type JournalRunSummary = z.infer<typeof JournalHttp.JournalRunSummary>;
/** `GET /v1/runs/{id}/reconstruct`: the run folded from its events, every event, its checkpoints. */
export type RunReconstruction = z.infer<typeof JournalHttp.RunReconstruction>;
export type TimelineItem = z.infer<typeof JournalHttp.TimelineItem>;
/** `GET /v1/runs/{id}/history`: summary, steps with attempts, one line per event. */
export type RunHistory = z.infer<typeof JournalHttp.RunHistory>;

export type InsightsWindow = z.infer<typeof InsightsHttp.InsightsWindow>;
export type StepStats = z.infer<typeof InsightsHttp.StepStats>;
export type Hotspot = z.infer<typeof InsightsHttp.Hotspot>;
export type TrendPoint = z.infer<typeof InsightsHttp.TrendPoint>;
export type DurationTrend = z.infer<typeof InsightsHttp.DurationTrend>;
export type RunFigures = z.infer<typeof InsightsHttp.RunFigures>;
/** A reviewed step's decisions in the window: time to decision (avg, p50, p95) and rejection rate. */
export type ReviewStats = z.infer<typeof InsightsHttp.ReviewStats>;
/** `GET /v1/insights`. */
export type InsightSummary = z.infer<typeof InsightsHttp.InsightSummary>;
/** `GET /v1/insights/hotspots`. */
export type InsightHotspots = z.infer<typeof InsightsHttp.InsightHotspots>;
/** `GET /v1/insights/trends`. */
export type InsightTrend = z.infer<typeof InsightsHttp.InsightTrend>;
/** `GET /v1/insights/steps`. */
export type InsightSteps = z.infer<typeof InsightsHttp.InsightSteps>;
/** `GET /v1/insights/reviews`. */
export type InsightReviews = z.infer<typeof InsightsHttp.InsightReviews>;
