import type { RunState } from '@weft/core';
import type { Scheduler } from '../scheduler';
import { ApiError } from '../api/http/api.errors';
import type { RunAccess } from './run-access';

/** Cancel, retry and resume a run of one namespace, each as engine events through the scheduler. */
export class RunControlUseCase {
  constructor(
    private readonly scheduler: Pick<Scheduler, 'cancelRun' | 'retryRun' | 'apply'>,
    private readonly runs: Pick<RunAccess, 'get'>,
  ) {}

  /** Cancels an unfinished run; canceling a canceled run is a no-op, any other finished run is RUN_FINISHED. */
  async cancel(namespace: string, runId: string, reason = 'canceled through the API'): Promise<RunState> {
    const before = await this.runs.get(namespace, runId);
    if (before.status === 'canceled') return before;
    const after = await this.scheduler.cancelRun(runId, reason);
    if (!after || after.status !== 'canceled') throw new ApiError('RUN_FINISHED', `run ${runId} already ended ${after?.status ?? before.status}`);
    return after;
  }

  /** Re-runs the failed, canceled and skipped steps of a finished run (`run.retry`). */
  async retry(namespace: string, runId: string): Promise<RunState> {
    const before = await this.runs.get(namespace, runId);
    const after = await this.scheduler.retryRun(runId);
    if (!after || after.seq === before.seq) {
      throw new ApiError('RUN_NOT_RETRYABLE', `run ${runId} is ${after?.status ?? before.status}: only failed, partially completed or canceled runs can be retried`);
    }
    return after;
  }

  /**
   * A running run whose steps stopped moving (a crash, a lost message): every step in
   * flight is dispatched again (`step.lost`) and every step waiting for a retry is
   * dispatched now (its retry timer fires early).
   */
  async resume(namespace: string, runId: string): Promise<{ state: RunState; redispatched: string[]; flushed: string[] }> {
    let state = await this.runs.get(namespace, runId);
    if (state.status !== 'running') throw new ApiError('RUN_NOT_RESUMABLE', `run ${runId} is ${state.status}: only a running run can be resumed (retry a finished one)`);
    const redispatched: string[] = [];
    const flushed: string[] = [];
    for (const { id } of state.plan) {
      const step = state.steps[id];
      if (!step) continue;
      const before = state.seq;
      if (step.status === 'queued' || step.status === 'running') {
        state = (await this.scheduler.apply(runId, (at) => ({ type: 'step.lost', at, stepId: id, attempt: step.attempt }))) ?? state;
        if (state.seq !== before) redispatched.push(id);
      } else if (step.status === 'retrying') {
        // Passing the timer removes its row, which would otherwise fire later as a no-op. A cancel
        // drops a timer only while it fires no later than fireAt: the flush drops it whenever it was due.
        const timer = { runId, timer: 'retry' as const, stepId: id, attempt: step.attempt, fireAt: Date.UTC(9999, 0, 1) };
        state = (await this.scheduler.apply(runId, (at) => ({ type: 'timer.fired', at, timer: 'retry', stepId: id, attempt: step.attempt }), timer)) ?? state;
        if (state.seq !== before) flushed.push(id);
      }
    }
    return { state, redispatched, flushed };
  }
}
