import { STEP_STATUSES } from '@weft/contracts';
import type { Millis, RunState, RunStatus, StepError, StepState, StepStatus } from './types';
import { reviewDecisionView, type ReviewDecisionView, type StepWaitView, waitView } from './wait-view.util';

/** One row per step, in plan order. Times are epoch ms (see summaryToJson for ISO strings). */
export interface StepSummary {
  id: string;
  status: StepStatus;
  /** Attempts dispatched so far (lost leases and run.retry included). */
  attempts: number;
  /** Start of the first attempt (its dispatch when it never started). */
  startedAt?: Millis;
  finishedAt?: Millis;
  /** finishedAt - startedAt: retries and backoff included. */
  durationMs?: number;
  output?: unknown;
  error?: StepError;
  /** Why the step was skipped or canceled. */
  reason?: string;
  /** A forEach step's items (each item's own record: GET /v1/runs/{id}/steps/{stepId}/items). */
  items?: ItemCounts;
}

/** How a forEach step's items stand. */
export interface ItemCounts {
  total: number;
  completed: number;
  failed: number;
  canceled: number;
  /** Queued, running or retrying. */
  inFlight: number;
  /** Not started yet. */
  pending: number;
}

/** The item counts of a forEach step (undefined for any other step). */
export function itemCounts(step: StepState | undefined): ItemCounts | undefined {
  const p = step?.forEach;
  if (!p) return undefined;
  const settled = p.completed + p.failed + p.canceled;
  return { total: p.total, completed: p.completed, failed: p.failed, canceled: p.canceled, inFlight: Math.max(0, p.started - settled), pending: Math.max(0, p.total - Math.max(p.started, settled)) };
}

export interface RunSummary {
  runId: string;
  workflow: string;
  version: string;
  status: RunStatus;
  createdAt: Millis;
  startedAt?: Millis;
  finishedAt?: Millis;
  /** finishedAt - startedAt, once the run finished. */
  durationMs?: number;
  /** Steps per status; every status is present. */
  counts: Record<StepStatus, number>;
  /** Attempts over all steps. */
  attempts: number;
  /** Attempts beyond each step's first. */
  retries: number;
  outputs?: Record<string, unknown>;
  error?: StepError;
  steps: StepSummary[];
}

/** What `weft run --json` reports about a run. */
export function summarize(state: RunState): RunSummary {
  const counts = Object.fromEntries(STEP_STATUSES.map((s) => [s, 0])) as Record<StepStatus, number>;
  let attempts = 0;
  let retries = 0;
  const steps = state.plan.map(({ id }): StepSummary => {
    const step = Object.hasOwn(state.steps, id) ? state.steps[id] : undefined;
    const status = step?.status ?? 'pending';
    counts[status] += 1;
    const tried = step?.attempts.length ?? 0;
    attempts += tried;
    retries += Math.max(0, tried - 1);
    const row: StepSummary = { id, status, attempts: tried };
    const first = step?.attempts[0];
    const startedAt = first ? (first.startedAt ?? first.dispatchedAt) : undefined;
    if (startedAt !== undefined) row.startedAt = startedAt;
    if (step?.finishedAt !== undefined) row.finishedAt = step.finishedAt;
    if (startedAt !== undefined && step?.finishedAt !== undefined) row.durationMs = step.finishedAt - startedAt;
    if (step?.output !== undefined) row.output = step.output;
    if (step?.error !== undefined) row.error = step.error;
    if (step?.reason !== undefined) row.reason = step.reason;
    const items = itemCounts(step);
    if (items !== undefined) row.items = items;
    return row;
  });
  const summary: RunSummary = {
    runId: state.runId,
    workflow: state.workflow,
    version: state.version,
    status: state.status,
    createdAt: state.createdAt,
    counts,
    attempts,
    retries,
    steps,
  };
  if (state.startedAt !== undefined) summary.startedAt = state.startedAt;
  if (state.finishedAt !== undefined) summary.finishedAt = state.finishedAt;
  if (state.startedAt !== undefined && state.finishedAt !== undefined) summary.durationMs = state.finishedAt - state.startedAt;
  if (state.outputs !== undefined) summary.outputs = state.outputs;
  if (state.error !== undefined) summary.error = state.error;
  return summary;
}

type Iso<T> = { [K in keyof T]: K extends 'createdAt' | 'startedAt' | 'finishedAt' ? string : T[K] };
export type StepSummaryJson = Iso<StepSummary>;
export type RunSummaryJson = Iso<Omit<RunSummary, 'steps'>> & { steps: StepSummaryJson[] };

/** The summary with times as ISO 8601 strings, for JSON output. */
export function summaryToJson(summary: RunSummary): RunSummaryJson {
  const { steps, createdAt, startedAt, finishedAt, ...rest } = summary;
  return {
    ...rest,
    createdAt: iso(createdAt),
    ...(startedAt !== undefined && { startedAt: iso(startedAt) }),
    ...(finishedAt !== undefined && { finishedAt: iso(finishedAt) }),
    steps: steps.map(({ startedAt: s, finishedAt: f, ...row }) => ({
      ...row,
      ...(s !== undefined && { startedAt: iso(s) }),
      ...(f !== undefined && { finishedAt: iso(f) }),
    })),
  };
}

const iso = (ms: Millis): string => new Date(ms).toISOString();

/**
 * One step as the API (`GET /v1/runs/{id}`) and `weft run --json` show it: times ISO 8601,
 * absent values null. A step's own start is its first attempt's start; retries belong to its
 * duration. `attempts` is the current attempt number (0 before the first dispatch).
 */
export interface StepView {
  id: string;
  status: StepStatus;
  attempts: number;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  output: unknown;
  error: { code: string; message: string } | null;
  /** A forEach step's items (absent for other steps). */
  items?: ItemCounts;
  /** While the step is `waiting`: what for (a sleep, a signal, a review, a slot, a rate-limit permit, a child run). */
  wait?: StepWaitView;
  /** The last review decision on the step (continue, correct, reject) and who made it. */
  review?: ReviewDecisionView;
}

/** The public view of step `id` of `state` (the one projection the scheduler's API and the CLI share). */
export function stepView(state: RunState, id: string): StepView {
  const step = Object.hasOwn(state.steps, id) ? state.steps[id] : undefined;
  const startedAt = step?.attempts[0]?.startedAt ?? step?.startedAt;
  return {
    id,
    status: step?.status ?? 'pending',
    attempts: step?.attempt ?? 0,
    startedAt: isoOrNull(startedAt),
    finishedAt: isoOrNull(step?.finishedAt),
    durationMs: spanOrNull(startedAt, step?.finishedAt),
    output: step?.output ?? null,
    error: errorView(step?.error),
    ...(step?.forEach !== undefined && { items: itemCounts(step) }),
    ...(step?.wait !== undefined && step.status === 'waiting' && { wait: waitView(step.wait) }),
    ...(step?.review !== undefined && { review: reviewDecisionView(step.review) }),
  };
}

/** Epoch ms as ISO 8601, or null when absent. */
export const isoOrNull = (ms: Millis | null | undefined): string | null => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

/** `to - from` when both are known, else null. */
export const spanOrNull = (from: Millis | null | undefined, to: Millis | null | undefined): number | null =>
  from === null || from === undefined || to === null || to === undefined ? null : to - from;

/** An error as the public views show it: code and message only. */
export const errorView = (error: StepError | null | undefined): { code: string; message: string } | null => (error ? { code: error.code, message: error.message } : null);
