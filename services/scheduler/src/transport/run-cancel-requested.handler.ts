import type { Delivery } from '@weft/bus';
import type { ApplyEventUseCase } from '../usecases/apply-event.usecase';
import type { DeliveryHold } from './delivery-hold';

/** `weft.run.cancel-requested` (a parent canceling its child) -> ApplyEventUseCase.cancel; a run already ended ignores it. */
export class RunCancelRequestedHandler {
  constructor(
    private readonly transitions: Pick<ApplyEventUseCase, 'cancel'>,
    private readonly hold: DeliveryHold,
  ) {}

  async handle(delivery: Delivery<'weft.run.cancel-requested'>): Promise<void> {
    const { runId, reason } = delivery.data;
    await this.hold.untilCommitted(delivery, () => this.transitions.cancel(runId, reason));
  }
}
