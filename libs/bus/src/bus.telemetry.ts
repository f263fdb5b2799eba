import type { Subject } from '@weft/contracts';
import { addSampleSource, recordRedelivery, withConsumerSpan } from '@weft/telemetry';
import type { ConsumerStats, Handler, Headers } from './bus.port';
import { splittingLifecycleBatches } from './lifecycle-batch';

/**
 * What both buses do around a handler: count a redelivery, run it inside a CONSUMER span
 * that continues the trace the message carries (`traceparent` in its headers), and hand
 * each event of a lifecycle batch to it on its own (lifecycle-batch.ts).
 */
export function instrumentHandler(group: string, consumer: Handler<Subject>): Handler<Subject> {
  const handler = splittingLifecycleBatches(consumer);
  return (delivery) => {
    if (delivery.deliveryCount > 1) recordRedelivery(delivery.subject);
    return withConsumerSpan({ subject: delivery.subject, headers: delivery.headers, group, deliveryCount: delivery.deliveryCount }, () => handler(delivery));
  };
}

export type Listener = (message: unknown, headers: Headers) => void | Promise<void>;

/** A broadcast listener inside a CONSUMER span (no group, no redelivery). */
export function instrumentListener(subject: string, listener: Listener): Listener {
  return (message, headers) => withConsumerSpan({ subject, headers }, async () => listener(message, headers));
}

/** Feeds `weft_consumer_pending{consumer}` from a bus's consumers on every scrape; returns the removal. */
export function sampleConsumerBacklog(stats: () => Promise<ConsumerStats[]>): () => void {
  return addSampleSource('weft_consumer_pending', async () => (await stats()).map((s) => ({ labels: { consumer: s.name }, value: s.pending + s.ackPending })));
}
