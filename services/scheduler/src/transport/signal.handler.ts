import type { Delivery } from '@weft/bus';
import { DEFAULT_NAMESPACE, SignalName, SUBJECTS } from '@weft/contracts';
import type { SchedulerLogger } from '../ports/scheduler-logger.port';
import type { SignalsUseCase } from '../usecases/signals.usecase';
import type { DeliveryHold } from './delivery-hold';

/**
 * `weft.signal.<name>` -> SignalsUseCase.send (the bus acks once it resolves). The audit log
 * names the sender `{ keyId: 'nats', name: <subject> }` (services in the cluster hold no API key). The subject
 * names the signal unless the payload does; without an `id`, the message's broker id
 * (Nats-Msg-Id, when the sender set one) keeps a redelivery from storing it twice.
 */
export class SignalHandler {
  constructor(
    private readonly signals: Pick<SignalsUseCase, 'send'>,
    private readonly hold: DeliveryHold,
    private readonly log: SchedulerLogger,
  ) {}

  async handle(delivery: Delivery<`weft.signal.${string}`>): Promise<void> {
    const m = delivery.data;
    const named = SignalName.safeParse(m.name ?? delivery.subject.slice(SUBJECTS.signalPrefix.length));
    if (!named.success) {
      // Never valid, however often it is redelivered.
      this.log.warn('dropped a signal with an invalid name', { subject: delivery.subject });
      await delivery.term(`invalid signal name: ${named.error.issues[0]?.message ?? ''}`);
      return;
    }
    const id = m.id ?? delivery.headers['Nats-Msg-Id'];
    await this.hold.untilCommitted(delivery, () =>
      this.signals.send(m.namespace ?? DEFAULT_NAMESPACE, {
        name: named.data,
        ...(m.key !== undefined && { key: m.key }),
        ...(m.data !== undefined && { data: m.data }),
        ...(id !== undefined && { id }),
      }, { keyId: 'nats', name: delivery.subject }),
    );
  }
}
