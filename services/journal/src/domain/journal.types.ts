import type { Actor, LifecycleEventType, RunStatus, StepError, StepStatus } from '@weft/contracts';

/**
 * One lifecycle event as the journal keeps it: append-only, one row per event id.
 * Times are ISO 8601 (the event's database time); absent values are null so the
 * JSON shape is stable.
 */
export interface JournalEntry {
  eventId: string;
  runId: string;
  workflow: string;
  /** The workflow version the run was started with (a name: the journal has no specs). */
  version: string;
  stepId: string | null;
  attempt: number | null;
  type: LifecycleEventType;
  status: RunStatus | StepStatus;
  at: string;
  durationMs: number | null;
  error: StepError | null;
  correlationId: string | null;
  /** W3C trace id: the event's own, else the one in its `traceparent` header. */
  traceId: string | null;
  /** Event details (retry delay, skip reason, run outputs...). A completed step's output is in its checkpoint instead. */
  data: Record<string, unknown> | null;
  /** The scheduler's decision number and the event's index in it (from `<runId>:<seq>:<n>`); 0 when the id has another shape. */
  seq: number;
  index: number;
}

/** A completed step's output and everything the run had produced by then: enough to inspect, resume or re-run from it. */
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
  /** stepId -> output of every step completed up to and including this one, in event order. */
  state: Record<string, unknown>;
}

/** Journal queries across runs. Times are epoch ms; `since` inclusive, `until` exclusive. */
/** Whose entries a query reads: one namespace, or null for every namespace (operators' local tools, never the HTTP API). */
export type NamespaceScope = string | null;

export interface EventQuery {
  /** Only entries of runs of this namespace (the HTTP API always sets the caller's). Absent: every namespace. */
  namespace?: string;
  runId?: string;
  workflow?: string;
  types?: readonly LifecycleEventType[];
  since?: number;
  until?: number;
  /** @default 100, at most 1000 */
  limit?: number;
  /** Continue after this cursor (from a previous page's `nextCursor`). */
  after?: string;
}

export interface EventPage {
  items: JournalEntry[];
  /** Pass as `after` for the next page; null on the last page. */
  nextCursor: string | null;
}

/** What one attempt of a step went through. */
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
  /** First dispatch to the end of the last attempt. */
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  error: StepError | null;
  /** Why a step was skipped or canceled. */
  reason: string | null;
  /** From the step's checkpoint, when it completed. */
  output?: unknown;
  /** The step's waits, in order (absent when it never waited). */
  waits?: WaitHistory[];
  /** The reviews of the step's output, in order, with who decided (absent when never reviewed). */
  reviews?: ReviewHistory[];
}

/** A durable sleep or a wait for a signal (or a slot, rate-limit permit, child run), from step.waiting. */
export interface WaitHistory {
  attempt: number | null;
  at: string;
  /** sleep, event, child, slot, rate */
  wait: string;
  /** A sleep: when it ends. */
  until: string | null;
  /** A wait for a signal: its name. */
  event: string | null;
  key: string | null;
}

/** A review folded from review.requested / review.decided: who decided what, who escalated. */
export interface ReviewHistory {
  reviewId: string;
  attempt: number | null;
  requestedAt: string | null;
  title: string | null;
  /** The assignees now (after the last escalation). */
  assignees: string[];
  /** Escalations and overdue marks; actor null when a timer (not a person) moved it. */
  escalations: { at: string; tier: number; assignees: string[]; overdue: boolean; actor: Actor | null; comment: string | null }[];
  /** continue, correct, retry or reject; null while open. */
  decision: string | null;
  /** Who decided: the API key (id and name), local, or the system deadline key. */
  actor: Actor | null;
  comment: string | null;
  decidedAt: string | null;
}

export interface RunSummary {
  runId: string;
  workflow: string;
  version: string;
  /** Folded from the run.* events; `unknown` when none is left (pruned). */
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
  /** How many times the run was re-run (run.retry) after finishing. */
  restarts: number;
  events: number;
  /** Who asked for the run (api, cli, trigger:<id>, rerun:<runId>, parent:<runId>), from run.queued; absent on older runs. */
  source?: string;
  /** The API key (or `local`) that started it, from run.queued; absent when no caller did. */
  actor?: Actor;
}

/** The run (and its step) that started a sub-workflow run. */
export interface RunParentLink {
  runId: string;
  stepId: string;
}

/** A run below another in the sub-workflow tree, flat in depth-first order. */
export interface RunTreeNode {
  runId: string;
  /** The run whose step started it (the root or another node). */
  parentRunId: string;
  stepId: string;
  /** 1 for the root's own children. */
  depth: number;
  /** Null when the journal has no entry for the child (pruned, or not journaled yet). */
  workflow: string | null;
  status: RunStatus | 'unknown';
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
}

/** Everything that happened to a run, from the journal alone. */
export interface RunReconstruction {
  run: RunSummary;
  /** When this run is a sub-workflow run: who started it. */
  parent?: RunParentLink;
  /** The sub-workflow runs below it, depth first (absent when it started none). */
  children?: RunTreeNode[];
  /** In the order the steps were first seen. */
  steps: StepHistory[];
  /** Every journaled event, in order. */
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

/** The readable story of a run: `GET /v1/runs/{id}/history` and `weft history`. */
export interface RunHistory {
  run: RunSummary;
  parent?: RunParentLink;
  children?: RunTreeNode[];
  steps: StepHistory[];
  timeline: TimelineItem[];
  notes: string[];
}
