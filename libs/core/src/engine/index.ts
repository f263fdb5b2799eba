export * from './types';
export * from './events';
export { planRun, runTimeoutMs, PlanError, DEFAULT_RETRY, DEFAULT_QUEUE, DEFAULT_STEP_TIMEOUT_MS } from './plan.util';
export { retryDelay, JITTER_RATIO } from './retry-delay.util';
export { stepInput } from './attempt.util';
export {
  createRun,
  decide,
  expressionScope,
  isTerminalRunStatus,
  isTerminalStepStatus,
  LEASE_MS,
  MAX_LOST_LEASES,
  DEFAULT_DISPATCH_WINDOW,
  DEFAULT_SHARED_WINDOW,
  dispatchWindowLoad,
  type WindowShare,
  withoutRecalled,
  ENGINE_ERROR_CODES,
  WAIT_ACTIONS,
  signalSatisfies,
  signalView,
  type EngineErrorCode,
  type DecideOptions,
  type CreateRunArgs,
} from './run.machine';
export * from './summary.util';
export { rerunPlan, RerunError, type RerunPlan } from './rerun.util';
export { WAIT_LIMITS, WaitInputError } from './wait-input.util';
export { changedSteps, stepIn } from './steps-record.util';
export { DEFAULT_MAX_FOREACH_ITEMS, FOR_EACH_DEFAULT_CONCURRENCY, FOR_EACH_ERROR_CODES, itemId, itemParent } from './for-each.util';
export { explainRun, describeReason, type RunWhy, type StepWhy, type WhyFacts, type WhyReason } from './why.util';
export { CHILD_ERROR_CODES, DEFAULT_MAX_RUN_DEPTH, childRunId, childRuns, type ParentRef } from './child-run.util';
export { gcraReserve, rateGrace, rateInterval, rateTolerance, RATE_PERMIT_GRACE_MS, type RateParams } from './rate-limit.util';
export { RUN_SLOT_STEP } from './run-slot.util';
