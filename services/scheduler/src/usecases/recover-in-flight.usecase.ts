import type { RunStore } from '../ports/run-store.port';
import type { SchedulerLogger } from '../ports/scheduler-logger.port';
import type { ApplyEventUseCase } from './apply-event.usecase';

/**
 * Treats every queued or running step as lost (`step.lost`) and dispatches it again.
 * Only right when no other process can be running them: embedded mode at start, where
 * the bus lived in the previous process and died with it.
 */
export async function recoverInFlight(store: Pick<RunStore, 'listRuns'>, transitions: Pick<ApplyEventUseCase, 'apply'>, log: SchedulerLogger): Promise<void> {
  for (const run of await store.listRuns({ status: ['running'] })) {
    for (const step of Object.values(run.steps)) {
      if (step.status !== 'queued' && step.status !== 'running') continue;
      log.info('re-dispatching a step left in flight by the previous process', { runId: run.runId, stepId: step.id, attempt: step.attempt });
      await transitions.apply(run.runId, (at) => ({ type: 'step.lost', at, stepId: step.id, attempt: step.attempt }));
    }
  }
}
