import type { Delivery } from '@weft/bus';
import type { RateLimitsUseCase } from '../usecases/rate-limits.usecase';
import type { SlotsUseCase } from '../usecases/slots.usecase';
import type { DeliveryHold } from './delivery-hold';

/**
 * `weft.slot.requested` / `weft.slot.released` -> SlotsUseCase, `weft.slot.rate-requested` ->
 * RateLimitsUseCase (the bus acks once it resolves). A release handled before its request leaves
 * a tombstone, so the late request grants nothing.
 */
export class SlotHandler {
  constructor(
    private readonly slots: Pick<SlotsUseCase, 'requested' | 'released'>,
    private readonly hold: DeliveryHold,
    private readonly rates: Pick<RateLimitsUseCase, 'requested'>,
  ) {}

  async requested(delivery: Delivery<'weft.slot.requested'>): Promise<void> {
    await this.hold.untilCommitted(delivery, () => this.slots.requested(delivery.data));
  }

  async rateRequested(delivery: Delivery<'weft.slot.rate-requested'>): Promise<void> {
    await this.hold.untilCommitted(delivery, () => this.rates.requested(delivery.data));
  }

  async released(delivery: Delivery<'weft.slot.released'>): Promise<void> {
    await this.hold.untilCommitted(delivery, () => this.slots.released(delivery.data));
  }
}
