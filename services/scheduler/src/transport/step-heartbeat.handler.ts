import type { Delivery } from '@weft/bus';
import type { ApplyEventUseCase } from '../usecases/apply-event.usecase';
import type { DeliveryHold } from './delivery-hold';

/** `weft.step.heartbeat` -> `step.started` / `step.heartbeat` through ApplyEventUseCase.apply, committed relaxed. */
export class StepHeartbeatHandler {
  constructor(
    private readonly transitions: Pick<ApplyEventUseCase, 'apply'>,
    private readonly hold: DeliveryHold,
  ) {}

  async handle(delivery: Delivery<'weft.step.heartbeat'>): Promise<void> {
    const h = delivery.data;
    await this.hold.untilCommitted(delivery, () => this.transitions.apply(h.runId, (at) =>
      h.phase === 'started'
        ? { type: 'step.started', at, stepId: h.stepId, attempt: h.attempt, token: h.token, workerId: h.workerId }
        : { type: 'step.heartbeat', at, stepId: h.stepId, attempt: h.attempt, token: h.token },
      undefined,
      // Losing a heartbeat in a database crash is harmless (see UpdateRunOptions.relaxed).
      { relaxed: true },
    ));
  }
}
