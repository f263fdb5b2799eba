import { eventSubject, isLifecycleBatchSubject, type LifecycleEventBatch, type Subject } from '@weft/contracts';
import type { Delivery, Handler } from './bus.port';

type Settlement = { kind: 'ack' } | { kind: 'nak'; delayMs: number | undefined } | { kind: 'term'; reason: string };

/**
 * Hands each event of a lifecycle batch (`weft.event.batch`, already validated by the bus) to the
 * handler as a delivery of its own, on its own subject, as if it had been published alone: every
 * consumer of `weft.event.>` reads batches and single events alike. The events start in order, run
 * concurrently (as separate messages would), and the one message is settled once all are:
 * acked when every event was; a nak or a throw wins (the whole batch comes again, and consumers skip
 * the events they applied by eventId); else a term dead-letters the batch with the reasons.
 * Other subjects pass through untouched.
 */
export function splittingLifecycleBatches<S extends Subject>(handler: Handler<S>): Handler<S> {
  return async (delivery) => {
    if (!isLifecycleBatchSubject(delivery.subject)) return handler(delivery);
    const { events } = delivery.data as unknown as LifecycleEventBatch;
    const settlements: (Settlement | undefined)[] = events.map(() => undefined);
    const outcomes = await Promise.allSettled(
      events.map((event, i) => {
        const settle = (settlement: Settlement) => {
          settlements[i] ??= settlement;
        };
        const one: Delivery<S> = {
          subject: eventSubject(event.type),
          data: event as Delivery<S>['data'],
          headers: { ...delivery.headers },
          deliveryCount: delivery.deliveryCount,
          ack: async () => settle({ kind: 'ack' }),
          nak: async (delayMs?: number) => settle({ kind: 'nak', delayMs }),
          term: async (reason: string) => settle({ kind: 'term', reason }),
          working: () => delivery.working(),
        };
        return handler(one);
      }),
    );
    const thrown = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (thrown) throw thrown.reason;
    const naks = settlements.filter((s): s is Extract<Settlement, { kind: 'nak' }> => s?.kind === 'nak');
    if (naks.length > 0) return delivery.nak(Math.max(...naks.map((n) => n.delayMs ?? 0)));
    const terms = settlements.flatMap((s, i) => (s?.kind === 'term' ? [`${events[i].eventId}: ${s.reason}`] : []));
    if (terms.length > 0) return delivery.term(terms.join('; '));
    return delivery.ack();
  };
}
