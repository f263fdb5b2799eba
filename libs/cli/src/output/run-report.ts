import type { RunState } from '@weft/core';

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

export interface StepReport {
  id: string;
  status: string;
  attempts: number;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  output: unknown;
  error: { code: string; message: string } | null;
}

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());
const span = (from: number | undefined, to: number | undefined): number | null => (from === undefined || to === undefined ? null : to - from);

export function runReport(state: RunState): RunReport {
  return {
    runId: state.runId,
    workflow: state.workflow,
    status: state.status,
    startedAt: iso(state.startedAt),
    finishedAt: iso(state.finishedAt),
    durationMs: span(state.startedAt, state.finishedAt),
    inputs: state.inputs,
    outputs: state.outputs ?? null,
    error: state.error ? { code: state.error.code, message: state.error.message } : null,
    steps: state.plan.map(({ id }) => {
      const step = state.steps[id];
      // A step's own start is its first attempt's start; retries belong to its duration.
      const startedAt = step?.attempts[0]?.startedAt ?? step?.startedAt;
      return {
        id,
        status: step?.status ?? 'pending',
        attempts: step?.attempt ?? 0,
        startedAt: iso(startedAt),
        finishedAt: iso(step?.finishedAt),
        durationMs: span(startedAt, step?.finishedAt),
        output: step?.output ?? null,
        error: step?.error ? { code: step.error.code, message: step.error.message } : null,
      };
    }),
  };
}
