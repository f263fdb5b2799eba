import type { Delivery } from '@weft/bus';
import type { RunRequested } from '@weft/contracts';
import { CHILD_ERROR_CODES, type RunState, stepIn } from '@weft/core';
import type { EarlyCancelStore } from '../ports/run-store.port';
import type { SchedulerLogger } from '../ports/scheduler-logger.port';
import { type CreateRunUseCase, RunRejectedError } from '../usecases/create-run.usecase';
import type { DeliveryHold } from './delivery-hold';
import type { ApplyEventUseCase } from '../usecases/apply-event.usecase';

/** `weft.run.requested` -> CreateRunUseCase.start; ack once committed, term (dead letter) when the request can never run. */
export class RunRequestedHandler {
  constructor(
    private readonly createRun: Pick<CreateRunUseCase, 'start'>,
    private readonly hold: DeliveryHold,
    private readonly log: SchedulerLogger,
    /** Child runs: a child that can never start fails its parent's step; one whose parent moved on is canceled. */
    private readonly parents?: { transitions: Pick<ApplyEventUseCase, 'apply' | 'cancel'>; getRun: (runId: string) => Promise<RunState | undefined> },
    /** Cancels that came before their run (RunCancelRequestedHandler), and how a run takes one. */
    private readonly early?: { cancels: EarlyCancelStore; transitions: Pick<ApplyEventUseCase, 'cancel'> },
  ) {}

  async handle(delivery: Delivery<'weft.run.requested'>): Promise<void> {
    try {
      const { runId } = await this.hold.untilCommitted(delivery, () => this.createRun.start(delivery.data));
      await this.cancelIfOrphan(runId, delivery.data);
      await this.cancelIfCanceledEarly(delivery, runId);
      await delivery.ack();
    } catch (error) {
      if (error instanceof RunRejectedError) {
        this.log.warn('run request rejected', { reason: error.message, idempotencyKey: delivery.data.idempotencyKey });
        const parent = delivery.data.parent;
        if (parent !== undefined && this.parents !== undefined) {
          const failure = { code: CHILD_ERROR_CODES.childRejected, message: `child workflow ${delivery.data.workflow} could not start: ${error.message}`, retryable: false };
          await this.parents.transitions.apply(parent.runId, (at) => ({ type: 'step.failed', at, stepId: parent.stepId, attempt: parent.attempt, token: parent.token, error: failure }));
        }
        await delivery.term(error.message);
        return;
      }
      throw error;
    }
  }

  /**
   * A trigger's cancel-other may name a run whose request is still on the way: its cancel, finding
   * no run, was remembered, and the run takes it now. Only runs a trigger started are looked up
   * (one statement per such run): children are checked against their parent (cancelIfOrphan), and
   * the API and CLI cancel only runs they can read.
   */
  private async cancelIfCanceledEarly(delivery: Delivery<'weft.run.requested'>, runId: string): Promise<void> {
    const early = this.early;
    if (early === undefined || !delivery.data.source?.startsWith('trigger:')) return;
    const reason = await this.hold.untilCommitted(delivery, () => early.cancels.take(runId));
    if (reason !== undefined) await this.hold.untilCommitted(delivery, () => early.transitions.cancel(runId, reason));
  }

  /**
   * A parent canceled while its child's request was on the way: its cancel found no child to
   * cancel, so the child, created after, sees that its parent no longer waits for it.
   */
  private async cancelIfOrphan(runId: string, request: RunRequested): Promise<void> {
    const parent = request.parent;
    if (parent === undefined || this.parents === undefined) return;
    const state = await this.parents.getRun(parent.runId);
    const step = state === undefined ? undefined : stepIn(state.steps, parent.stepId);
    if (step?.status === 'waiting' && step.token === parent.token) return;
    await this.parents.transitions.cancel(runId, `parent run ${parent.runId} no longer waits for it`);
  }
}
