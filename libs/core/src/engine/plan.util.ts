import type { RetryPolicy, StepSpec, WorkflowSpec } from '../spec/spec.schema';
import { durationMs } from './duration.util';
import type { PlannedStep, ResolvedRetry } from './types';

export const DEFAULT_STEP_TIMEOUT_MS = 10 * 60_000;
export const DEFAULT_QUEUE = 'default';
export const DEFAULT_RETRY: Readonly<ResolvedRetry> = Object.freeze({
  maxAttempts: 1,
  backoff: 'exponential',
  initialIntervalMs: 1_000,
  maxIntervalMs: 60_000,
  multiplier: 2,
  jitter: true,
  nonRetryable: [],
});

/** A spec the engine cannot plan (validation should have caught it first). */
export class PlanError extends Error {
  readonly code = 'PLAN_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'PlanError';
  }
}

/**
 * Resolves every default of every step and orders the steps topologically
 * (declaration order among steps that are ready together, so plans are stable).
 */
export function planRun(spec: WorkflowSpec): PlannedStep[] {
  const byId = new Map<string, StepSpec>();
  for (const step of spec.steps) {
    if (byId.has(step.id)) throw new PlanError(`duplicate step id "${step.id}"`);
    byId.set(step.id, step);
  }
  const ordered = topologicalOrder(spec.steps, byId);
  const defaults = spec.defaults ?? {};
  return ordered.map((step): PlannedStep => {
    const planned: PlannedStep = {
      id: step.id,
      needs: [...new Set(step.needs ?? [])],
      action: step.action,
      with: step.with ?? {},
      timeoutMs: parseDuration(step.timeout ?? defaults.timeout, DEFAULT_STEP_TIMEOUT_MS, `steps.${step.id}.timeout`),
      retry: resolveRetry(step.retry ?? defaults.retry, step.id),
      queue: step.queue ?? defaults.queue ?? DEFAULT_QUEUE,
      onFailure: step.onFailure ?? spec.onFailure ?? 'fail-fast',
    };
    if (step.if !== undefined) planned.if = step.if;
    return planned;
  });
}

/** Milliseconds of the whole-run timeout, when the spec sets one. */
export function runTimeoutMs(spec: WorkflowSpec): number | undefined {
  return spec.timeout === undefined ? undefined : parseDuration(spec.timeout, 0, 'timeout');
}

function resolveRetry(policy: RetryPolicy | undefined, stepId: string): ResolvedRetry {
  const p = policy ?? {};
  return {
    maxAttempts: p.maxAttempts ?? DEFAULT_RETRY.maxAttempts,
    backoff: p.backoff ?? DEFAULT_RETRY.backoff,
    initialIntervalMs: parseDuration(p.initialInterval, DEFAULT_RETRY.initialIntervalMs, `steps.${stepId}.retry.initialInterval`),
    maxIntervalMs: parseDuration(p.maxInterval, DEFAULT_RETRY.maxIntervalMs, `steps.${stepId}.retry.maxInterval`),
    multiplier: p.multiplier ?? DEFAULT_RETRY.multiplier,
    jitter: p.jitter ?? DEFAULT_RETRY.jitter,
    nonRetryable: [...(p.nonRetryable ?? [])],
  };
}

function parseDuration(text: string | undefined, fallback: number, path: string): number {
  if (text === undefined) return fallback;
  const ms = durationMs(text);
  if (ms === undefined) throw new PlanError(`${path}: "${text}" is not a duration`);
  return ms;
}

/** Kahn's algorithm, always taking the earliest-declared ready step. */
function topologicalOrder(steps: readonly StepSpec[], byId: ReadonlyMap<string, StepSpec>): StepSpec[] {
  const position = new Map(steps.map((s, i) => [s.id, i]));
  const remaining: number[] = [];
  const dependents: number[][] = steps.map(() => []);
  steps.forEach((step, i) => {
    const needs = new Set(step.needs ?? []);
    for (const need of needs) {
      const at = position.get(need);
      if (at === undefined || !byId.has(need)) throw new PlanError(`step "${step.id}" needs unknown step "${need}"`);
      dependents[at]?.push(i);
    }
    remaining[i] = needs.size;
  });
  // Ready positions kept sorted descending, so pop() yields the earliest declared.
  const ready = steps.map((_, i) => i).filter((i) => remaining[i] === 0).reverse();
  const out: StepSpec[] = [];
  for (let i = ready.pop(); i !== undefined; i = ready.pop()) {
    const step = steps[i];
    if (step) out.push(step);
    for (const d of dependents[i] ?? []) {
      const left = (remaining[d] ?? 0) - 1;
      remaining[d] = left;
      if (left === 0) insertDescending(ready, d);
    }
  }
  if (out.length !== steps.length) {
    const stuck = steps.filter((_, i) => (remaining[i] ?? 0) > 0).map((s) => s.id);
    throw new PlanError(`steps form a cycle: ${stuck.join(', ')}`);
  }
  return out;
}

function insertDescending(sorted: number[], value: number): void {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] ?? 0) > value) lo = mid + 1;
    else hi = mid;
  }
  sorted.splice(lo, 0, value);
}
