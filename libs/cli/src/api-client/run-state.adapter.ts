import { planRun, type RunState, type StepState } from '@weft/core';
import type { Run } from '@weft/sdk';

const millis = (iso: string | null): number | undefined => (iso === null ? undefined : Date.parse(iso));

/**
 * A run as the API shows it, as the RunState the run view and `--json` report read, so
 * `weft run --api` prints what an embedded run prints. Only the fields they read are
 * filled: a step's start is its first attempt's (the API's meaning too).
 */
export function runStateFromApi(run: Run): RunState {
  const steps = Object.create(null) as Record<string, StepState>;
  for (const s of run.steps) {
    const step: StepState = { id: s.id, status: s.status, attempt: s.attempts, attempts: [] };
    const startedAt = millis(s.startedAt);
    const finishedAt = millis(s.finishedAt);
    if (startedAt !== undefined) step.startedAt = startedAt;
    if (finishedAt !== undefined) step.finishedAt = finishedAt;
    if (s.output !== null && s.output !== undefined) step.output = s.output;
    if (s.error) step.error = s.error;
    if (s.reusedFrom !== null) step.reusedFrom = s.reusedFrom;
    Object.defineProperty(steps, s.id, { value: step, enumerable: true, writable: true, configurable: true });
  }
  const state: RunState = {
    runId: run.runId,
    namespace: run.namespace,
    workflow: run.workflow,
    version: run.version,
    spec: run.spec,
    plan: planRun(run.spec),
    steps,
    status: run.status,
    inputs: run.inputs,
    createdAt: Date.parse(run.createdAt),
    seq: 0,
  };
  const startedAt = millis(run.startedAt);
  const finishedAt = millis(run.finishedAt);
  if (startedAt !== undefined) state.startedAt = startedAt;
  if (finishedAt !== undefined) state.finishedAt = finishedAt;
  if (run.outputs !== null) state.outputs = run.outputs;
  if (run.error) state.error = run.error;
  if (run.correlationId !== null) state.correlationId = run.correlationId;
  return state;
}
