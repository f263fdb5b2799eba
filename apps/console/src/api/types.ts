// The API's answers as the console reads them (docs/api.md, GET /openapi.json).
// Written out rather than imported: @weft/contracts is zod on Node, and the browser
// bundle needs only these shapes.

export const RUN_STATUSES = ['queued', 'running', 'completed', 'partially_completed', 'failed', 'canceled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export type StepStatus = 'pending' | 'queued' | 'running' | 'retrying' | 'waiting' | 'completed' | 'failed' | 'skipped' | 'canceled' | string;

export interface ErrorSummary {
  code: string;
  message: string;
  retryable?: boolean;
}

export interface RunSummary {
  runId: string;
  workflow: string;
  version: string;
  status: RunStatus;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  error: ErrorSummary | null;
  correlationId: string | null;
}

export interface StepView {
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

export interface SpecStep {
  id: string;
  name?: string;
  action: string;
  needs?: string[];
  with?: Record<string, unknown>;
  if?: string;
  queue?: string;
}

export interface InputDecl {
  type: 'string' | 'integer' | 'number' | 'boolean' | 'object' | 'array';
  default?: unknown;
  required?: boolean;
  description?: string;
}

export interface Spec {
  name: string;
  description?: string;
  inputs?: Record<string, InputDecl>;
  steps: SpecStep[];
  [key: string]: unknown;
}

export interface Run extends RunSummary {
  namespace: string;
  inputs: Record<string, unknown>;
  outputs: Record<string, unknown> | null;
  rerunOf: { runId: string; fromStep: string | null } | null;
  steps: StepView[];
  spec: Spec;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface RunAccepted {
  runId: string;
  status: RunStatus;
  created: boolean;
  location: string;
}

export interface LifecycleEvent {
  eventId: string;
  type: string;
  runId: string;
  stepId?: string | null;
  attempt?: number | null;
  status: string;
  at: string;
  durationMs?: number | null;
  error?: ErrorSummary | null;
  data?: Record<string, unknown> | null;
}

export interface Attempt {
  attempt: number;
  status: string;
  queuedAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  workerId: string | null;
  queue: string | null;
  action: string | null;
  error: ErrorSummary | null;
  timedOut: boolean;
  retryDelayMs: number | null;
}

export interface HistoryStep {
  stepId: string;
  status: string;
  attempts: Attempt[];
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  error: ErrorSummary | null;
  reason: string | null;
  output?: unknown;
}

export interface TimelineLine {
  at: string;
  offsetMs: number;
  type: string;
  stepId: string | null;
  attempt: number | null;
  status: string;
  durationMs: number | null;
  error: ErrorSummary | null;
  text: string;
}

export interface History {
  run: { runId: string; queuedAt: string | null; startedAt: string | null; finishedAt: string | null; events: number };
  steps: HistoryStep[];
  timeline: TimelineLine[];
}

export interface Checkpoint {
  stepId: string;
  attempt?: number;
  at?: string;
  output: unknown;
  [key: string]: unknown;
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
  spec: Spec;
}

export interface Draft {
  workflowId: string;
  workflow: string;
  revision: number;
  spec: Spec | null;
  updatedAt: string;
}

export interface Diagnostic {
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
  diagnostics: Diagnostic[];
}

export interface StepFigures {
  workflow: string;
  stepId: string;
  completed: number;
  failed: number;
  retried: number;
  skipped: number;
  canceled: number;
  timedOut: number;
  successRate: number | null;
  retryRate: number | null;
  avgMs: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
}

export interface Hotspot {
  workflow: string;
  stepId: string;
  failures: number;
  retries: number;
  completed: number;
  failureRate: number | null;
  topError: { code: string; count: number } | null;
  lastFailureAt: string | null;
}

export interface TrendPoint {
  at: string;
  finished: number;
  completed: number;
  failed: number;
  avgMs: number | null;
  movingAvgMs: number | null;
}

export interface InsightsSummary {
  window: { workflow: string | null; since: string; until: string };
  runs: { started: number; finished: number; completed: number; partiallyCompleted: number; failed: number; canceled: number; successRate: number | null; avgMs: number | null; p50Ms: number | null; p95Ms: number | null };
  steps: StepFigures[];
  hotspots: Hotspot[];
  slowest: StepFigures[];
  flaky: StepFigures[];
  trend: { granularity: string; window: number; points: TrendPoint[] };
  findings?: unknown[];
}

export interface Problem {
  type?: string;
  title?: string;
  status: number;
  detail?: string;
  code?: string;
  instance?: string;
  errors?: { path: string; message: string; code?: string; line?: number; col?: number }[];
}
