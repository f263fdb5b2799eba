import { WeftError, type WeftErrorOptions } from '@weft/contracts';
import { DagError, topologicalOrder } from '../dag';
import { DurationError, parseDuration as parseSpecDuration } from '../workflow-spec';
import { type RetryPolicy, type ReviewSpec, SPEC_DEFAULTS, type StepSpec, type WorkflowSpec } from '../workflow-spec/spec.schema';
import type { PlannedReview, PlannedStep, ResolvedRetry } from './types';

// The spec module documents the defaults (SPEC_DEFAULTS); the engine applies them.
/** Priority of queued work within a concurrency key when the step gives none (1 goes first, 5 last). */
export const DEFAULT_PRIORITY = 3;

export const DEFAULT_STEP_TIMEOUT_MS = parseSpecDuration(SPEC_DEFAULTS.stepTimeout);
export const DEFAULT_QUEUE: string = SPEC_DEFAULTS.queue;
export const DEFAULT_RETRY: Readonly<ResolvedRetry> = Object.freeze({
  maxAttempts: SPEC_DEFAULTS.retry.maxAttempts,
  backoff: SPEC_DEFAULTS.retry.backoff,
  initialIntervalMs: parseSpecDuration(SPEC_DEFAULTS.retry.initialInterval),
  maxIntervalMs: parseSpecDuration(SPEC_DEFAULTS.retry.maxInterval),
  multiplier: SPEC_DEFAULTS.retry.multiplier,
  jitter: SPEC_DEFAULTS.retry.jitter,
  nonRetryable: [],
});

/** A spec the engine cannot plan (validation should have caught it first). */
export class PlanError extends WeftError<'PLAN_INVALID'> {
  constructor(message: string, options?: WeftErrorOptions) {
    super('PLAN_INVALID', message, options);
  }
}

/**
 * Resolves every default of every step and orders the steps topologically
 * (declaration order among steps that are ready together, so plans are stable).
 * Throws PlanError for specs validateSpec would have rejected.
 */
export function planRun(spec: WorkflowSpec): PlannedStep[] {
  const byId = new Map<string, StepSpec>(spec.steps.map((s) => [s.id, s]));
  let ordered: StepSpec[];
  try {
    ordered = topologicalOrder(spec.steps).flatMap((id) => byId.get(id) ?? []);
  } catch (error) {
    if (error instanceof DagError) throw new PlanError(error.message, { cause: error });
    throw error;
  }
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
      onFailure: step.onFailure ?? spec.onFailure ?? SPEC_DEFAULTS.onFailure,
    };
    if (step.if !== undefined) planned.if = step.if;
    if (step.review !== undefined) planned.review = resolveReview(step.review, step.id);
    if (step.forEach !== undefined) planned.forEach = step.forEach;
    if (typeof step.concurrency === 'number') planned.concurrency = step.concurrency;
    else if (step.concurrency !== undefined) {
      const { limit, key, strategy } = step.concurrency;
      planned.slot = { limit, key: key ?? '', priority: step.priority ?? DEFAULT_PRIORITY, ...(strategy !== undefined && strategy !== 'queue' && { strategy }) };
    }
    if (step.rateLimit !== undefined) {
      const { limit, period, key, burst } = step.rateLimit;
      planned.rateLimit = { limit, periodMs: parseDuration(period, 0, `steps.${step.id}.rateLimit.period`), key: key ?? '', burst: burst ?? 1 };
    }
    return planned;
  });
}

/** Milliseconds of the whole-run timeout, when the spec sets one. */
export function runTimeoutMs(spec: WorkflowSpec): number | undefined {
  return spec.timeout === undefined ? undefined : parseDuration(spec.timeout, 0, 'timeout');
}

function resolveReview(review: ReviewSpec, stepId: string): PlannedReview {
  const path = `steps.${stepId}.review`;
  const planned: PlannedReview = {
    assignees: [...(review.assignees ?? [])],
    escalation: (review.escalation ?? []).map((tier, k) => ({ afterMs: parseDuration(tier.after, 0, `${path}.escalation[${k}].after`), assignees: [...tier.assignees] })),
    onDeadline: review.onDeadline ?? SPEC_DEFAULTS.review.onDeadline,
  };
  if (review.when !== undefined) planned.when = review.when;
  if (review.title !== undefined) planned.title = review.title;
  if (review.instructions !== undefined) planned.instructions = review.instructions;
  if (review.form !== undefined) planned.form = review.form;
  if (review.deadline !== undefined) planned.deadlineMs = parseDuration(review.deadline, 0, `${path}.deadline`);
  return planned;
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
  try {
    return parseSpecDuration(text);
  } catch (error) {
    if (error instanceof DurationError) throw new PlanError(`${path}: ${error.message}`, { cause: error });
    throw error;
  }
}
