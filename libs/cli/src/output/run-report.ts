import { errorView, isoOrNull, type RunState, spanOrNull, stepView, type StepView } from '@weft/core';

/** The document `weft run --json` prints: a public contract, timestamps ISO 8601. */
export interface RunReport {
  runId: string;
  workflow: string;
  status: RunState['status'];
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  inputs: Record<string, unknown>;
  outputs: Record<string, unknown> | null;
  error: { code: string; message: string } | null;
  steps: StepReport[];
}

/** A step as the API shows it (core's `stepView`). */
export type StepReport = StepView;

export function runReport(state: RunState): RunReport {
  return {
    runId: state.runId,
    workflow: state.workflow,
    status: state.status,
    startedAt: isoOrNull(state.startedAt),
    finishedAt: isoOrNull(state.finishedAt),
    durationMs: spanOrNull(state.startedAt, state.finishedAt),
    inputs: state.inputs,
    outputs: state.outputs ?? null,
    error: errorView(state.error),
    steps: state.plan.map(({ id }) => stepView(state, id)),
  };
}
