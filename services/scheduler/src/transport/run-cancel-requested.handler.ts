import type { Delivery } from '@weft/bus';
import type { ApplyEventUseCase } from '../usecases/apply-event.usecase';
import type { EarlyCancelStore } from '../ports/run-store.port';
import type { DeliveryHold } from './delivery-hold';

/**
 * `weft.run.cancel-requested` (a parent canceling its child, a trigger's cancel-other) ->
 * ApplyEventUseCase.cancel; a run already ended ignores it. A cancel for a run not created yet
 * (its request travels on another consumer and may come later) is remembered, then the run is
 * looked for again: either this second look finds the run, or the run, once created, finds the
 * cancel (RunRequestedHandler), never neither (DESIGN.md §8).
 */
export class RunCancelRequestedHandler {
  constructor(
    private readonly transitions: Pick<ApplyEventUseCase, 'cancel'>,
    private readonly hold: DeliveryHold,
    private readonly early?: EarlyCancelStore,
  ) {}

  async handle(delivery: Delivery<'weft.run.cancel-requested'>): Promise<void> {
    const { runId, reason } = delivery.data;
    const found = await this.hold.untilCommitted(delivery, () => this.transitions.cancel(runId, reason));
    const early = this.early;
    if (found !== undefined || early === undefined) return;
    await this.hold.untilCommitted(delivery, () => early.remember(runId, reason));
    const foundLate = await this.hold.untilCommitted(delivery, () => this.transitions.cancel(runId, reason));
    if (foundLate !== undefined) await this.hold.untilCommitted(delivery, () => early.take(runId));
  }
}
