import { type StepDispatch, type StepError } from '@weft/contracts';
import { type Span, SpanStatusCode } from '@opentelemetry/api';
import { recordStepAttempt, type StepOutcomeLabel, type StepStatusLabel } from '@weft/telemetry';
import { WORKER_ERROR_CODES } from './action.errors';
import type { ActionLogger } from './action.types';
import type { StepFinishedEvent } from './worker.options';

/** How an attempt ended on this worker: reported completed or failed, or handed back to run again. */
export type Outcome = { kind: 'completed'; output: unknown } | { kind: 'failed'; error: StepError } | { kind: 'handed-back'; error?: StepError };

/** What a settled attempt leaves behind: a debug line, the attempt metrics, its span's outcome and the onStepFinished hook. */
export function recordFinished(
  dispatch: StepDispatch,
  outcome: Outcome,
  durationMs: number,
  at: { workerId: string; log: ActionLogger; span: Span; onStepFinished?: (event: StepFinishedEvent) => void },
): void {
  const { log, span } = at;
  const error = outcome.kind === 'completed' ? undefined : outcome.error;
  log.debug(`step ${outcome.kind}`, { durationMs: Math.round(durationMs), ...(error ? { error } : {}) });
  const labels = outcomeLabels(outcome);
  recordStepAttempt({ workflow: dispatch.workflow, action: dispatch.action, ...labels, durationSeconds: durationMs / 1000 });
  span.setAttribute('weft.step.outcome', labels.outcome);
  if (outcome.kind === 'failed') {
    span.setAttributes({ 'weft.error.code': outcome.error.code, 'weft.error.retryable': outcome.error.retryable });
    span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.error.message });
  }
  try {
    at.onStepFinished?.({
      runId: dispatch.runId,
      workflow: dispatch.workflow,
      stepId: dispatch.stepId,
      attempt: dispatch.attempt,
      action: dispatch.action,
      queue: dispatch.queue,
      workerId: at.workerId,
      outcome: outcome.kind,
      error,
      durationMs,
    });
  } catch (hookError) {
    log.warn('onStepFinished threw', { error: String(hookError) });
  }
}

/** Metric labels of an attempt: `status` for the duration histogram, the finer `outcome` for the attempts counter. */
function outcomeLabels(outcome: Outcome): { status: StepStatusLabel; outcome: StepOutcomeLabel } {
  switch (outcome.kind) {
    case 'completed':
      return { status: 'completed', outcome: 'completed' };
    case 'handed-back':
      return { status: 'handed_back', outcome: 'handed_back' };
    case 'failed': {
      const code = outcome.error.code;
      const detail: StepOutcomeLabel = code === WORKER_ERROR_CODES.timeout ? 'timed_out' : code === WORKER_ERROR_CODES.canceled ? 'canceled' : 'failed';
      return { status: 'failed', outcome: detail };
    }
  }
}
