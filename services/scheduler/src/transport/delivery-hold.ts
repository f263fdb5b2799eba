import type { Delivery } from '@weft/bus';
import type { Subject } from '@weft/contracts';
import { RunStoreError } from '../persistence/run-store.errors';
import type { SchedulerLogger } from '../ports/scheduler-logger.port';

/**
 * Runs a message's use case until the database answers. Through an outage the delivery
 * is held (working() keeps the broker from redelivering it), never acked and not nak'ed:
 * every redelivery counts towards the consumer's max deliveries, and a result
 * dead-lettered during a long outage would be lost. Other errors propagate (nak, and
 * in the end a dead letter); on close() the hold ends and the broker redelivers later.
 */
export class DeliveryHold {
  private running = true;
  /** Wakes handlers holding messages through a database outage, so stopping is not kept waiting. */
  private readonly holding = new Set<() => void>();

  constructor(private readonly log: SchedulerLogger) {}

  async untilCommitted<T>(delivery: Pick<Delivery<Subject>, 'subject' | 'working'>, work: () => Promise<T>): Promise<T> {
    for (let held = 0; ; held++) {
      try {
        return await work();
      } catch (error) {
        if (!(error instanceof RunStoreError && error.code === 'STORE_UNAVAILABLE') || !this.running) throw error;
        if (held === 0) this.log.warn('database unavailable: holding the message until it answers', { subject: delivery.subject, error: error.message });
        await delivery.working();
        await new Promise<void>((resolve) => {
          const wake = (): void => {
            clearTimeout(timer);
            this.holding.delete(wake);
            resolve();
          };
          const timer = setTimeout(wake, Math.min(100 * 2 ** held, 2_000));
          this.holding.add(wake);
        });
      }
    }
  }

  open(): void {
    this.running = true;
  }

  /** Ends every hold: the held message fails (nak) and the broker redelivers it later. */
  close(): void {
    this.running = false;
    for (const wake of this.holding) wake();
  }
}
