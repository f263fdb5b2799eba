import { ExpressionBudgetError, ExpressionError, TemplateSyntaxError } from '../expr';
import { PAYLOAD_ERROR_CODES } from '@weft/contracts';
import { FOR_EACH_ERROR_CODES } from './for-each.util';
import { CHILD_ERROR_CODES } from './child-run.util';
import type { StepError } from './types';

/** Stable codes of the errors the engine itself puts on steps and runs. */
export const ENGINE_ERROR_CODES = {
  /** An `if`, `with` or transform expression could not be evaluated (never retried). */
  expression: 'EXPRESSION_ERROR',
  /** An expression spent more than its budget (docs/spec.md, "Expression limits"); never retried. */
  expressionBudget: 'EXPRESSION_BUDGET',
  /** An attempt ran past its step timeout (retryable). */
  timeout: 'TIMEOUT',
  /** A worker went silent; after MAX_LOST_LEASES re-dispatches the step fails with it. */
  workerLost: 'WORKER_LOST',
  /** The whole run ran past `spec.timeout`. */
  runTimeout: 'RUN_TIMEOUT',
  /** `spec.outputs` could not be rendered. */
  output: 'OUTPUT_ERROR',
  /** The run was canceled. */
  canceled: 'CANCELED',
  /** Steps failed under `onFailure: continue`. */
  stepsFailed: 'STEPS_FAILED',
  /** A reviewer (or a review deadline with onDeadline: reject) rejected the step's output (never retried). */
  rejected: 'REJECTED',
  /** A sleep or wait.event step's `with` does not say what to wait for (a bad duration or time; never retried). */
  invalidWait: 'INVALID_WAIT',
  /** A result, dispatch input or run output larger than `maxPayloadBytes` (WEFT_MAX_PAYLOAD); never retried. */
  payloadTooLarge: PAYLOAD_ERROR_CODES.tooLarge,
  /** A result, dispatch input or run output holding text PostgreSQL cannot store (NUL, a lone surrogate); never retried. */
  unstorable: PAYLOAD_ERROR_CODES.unstorable,
  /** The broker refused a step's dispatch for good (its outbox row was quarantined); never retried. */
  dispatchFailed: PAYLOAD_ERROR_CODES.dispatchFailed,
  /** A forEach expression did not yield a list (never retried). */
  forEachNotAList: FOR_EACH_ERROR_CODES.notAList,
  /** A forEach list longer than WEFT_MAX_FOREACH_ITEMS (never retried). */
  forEachTooMany: FOR_EACH_ERROR_CODES.tooMany,
  /** A forEach step's items failed (fail-fast: the first; continue: none completed, or on a partially_completed step). */
  itemsFailed: FOR_EACH_ERROR_CODES.itemsFailed,
  /** A child run (`action: workflow`) did not complete (never retried). */
  childFailed: CHILD_ERROR_CODES.childFailed,
  /** A child run would nest deeper than WEFT_MAX_RUN_DEPTH (never retried). */
  runDepthExceeded: CHILD_ERROR_CODES.depthExceeded,
  /** A step's concurrency strategy (cancel-in-progress, cancel-newest) took its slot away or refused it (never retried). */
  concurrencyCanceled: 'CONCURRENCY_CANCELED',
} as const;
export type EngineErrorCode = (typeof ENGINE_ERROR_CODES)[keyof typeof ENGINE_ERROR_CODES];

export function expressionFailure(error: unknown, where: string): StepError {
  if (error instanceof ExpressionError || error instanceof TemplateSyntaxError) {
    return { code: ENGINE_ERROR_CODES.expression, message: `${where}: ${error.message}`, retryable: false };
  }
  if (error instanceof ExpressionBudgetError) return { code: ENGINE_ERROR_CODES.expressionBudget, message: `${where}: ${error.message}`, retryable: false };
  throw error;
}
