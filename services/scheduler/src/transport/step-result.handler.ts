import type { Delivery } from '@weft/bus';
import type { ApplyEventUseCase } from '../usecases/apply-event.usecase';
import type { DeliveryHold } from './delivery-hold';

/** `weft.step.result` -> `step.completed` / `step.failed` through ApplyEventUseCase.apply (the bus acks once it resolves). */
export class StepResultHandler {
  constructor(
    private readonly transitions: Pick<ApplyEventUseCase, 'apply'>,
    private readonly hold: DeliveryHold,
  ) {}

  async handle(delivery: Delivery<'weft.step.result'>): Promise<void> {
    const r = delivery.data;
    // A short step's result is its only message (no started heartbeat): the core starts and
    // ends the attempt in this one transaction, on database time (r.startedAt is the worker's clock).
    await this.hold.untilCommitted(delivery, () => this.transitions.apply(r.runId, (at) =>
      r.outcome === 'completed'
        ? { type: 'step.completed', at, stepId: r.stepId, attempt: r.attempt, token: r.token, output: r.output, workerId: r.workerId }
        : { type: 'step.failed', at, stepId: r.stepId, attempt: r.attempt, token: r.token, error: r.error, workerId: r.workerId },
    ));
  }
}
