import type { Delivery } from '@weft/bus';
import type { SchedulerLogger } from '../ports/scheduler-logger.port';
import { type CreateRunUseCase, RunRejectedError } from '../usecases/create-run.usecase';
import type { DeliveryHold } from './delivery-hold';

/** `weft.run.requested` -> CreateRunUseCase.start; ack once committed, term (dead letter) when the request can never run. */
export class RunRequestedHandler {
  constructor(
    private readonly createRun: Pick<CreateRunUseCase, 'start'>,
    private readonly hold: DeliveryHold,
    private readonly log: SchedulerLogger,
  ) {}

  async handle(delivery: Delivery<'weft.run.requested'>): Promise<void> {
    try {
      await this.hold.untilCommitted(delivery, () => this.createRun.start(delivery.data));
      await delivery.ack();
    } catch (error) {
      if (error instanceof RunRejectedError) {
        this.log.warn('run request rejected', { reason: error.message, idempotencyKey: delivery.data.idempotencyKey });
        await delivery.term(error.message);
        return;
      }
      throw error;
    }
  }
}
