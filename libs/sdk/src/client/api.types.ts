import type { LifecycleEvent, RunStatus, StepStatus } from '@weft/contracts';
import type { WorkflowSpec } from '@weft/core';

/**
 * The JSON shapes of the Weft HTTP API (GET /openapi.json describes them too). The
 * server's zod schemas are the source; a compile-time test in the CLI checks that these
 * stay equal to what they produce.
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
