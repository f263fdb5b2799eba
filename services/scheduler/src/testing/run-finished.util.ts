import { TERMINAL_RUN_STATUSES, type RunState } from '@weft/core';
import type { RunStore } from '../ports/run-store.port';

/** Polls the store until the run is terminal (a condition, not a sleep); throws after `timeoutMs`. */
export async function runFinished(store: Pick<RunStore, 'getRun'>, runId: string, timeoutMs = 10_000, intervalMs = 10): Promise<RunState> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = await store.getRun(runId);
    if (run && TERMINAL_RUN_STATUSES.includes(run.status)) return run;
    if (Date.now() > deadline) throw new Error(`run ${runId} did not finish within ${timeoutMs} ms (status ${run?.status})`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
