import { type Subject } from '@weft/contracts';
import { decodePayload, errorMessage } from './bus.defaults';
import { type DeadLetter, type Delivery } from './bus.port';
import { type Attempt, type ConsumerState, type Entry, type SubscriberState } from './in-memory.state';

/** What delivery needs from its in-memory bus. */
export interface DispatchContext {
  isClosed(): boolean;
  /** Redelivery delay after a handler throws. */
  errorNakDelayMs: number;
  recordDeadLetter(record: Omit<DeadLetter, 'at'>): void;
}

/**
 * Delivery of a consumer's ready messages to its subscribers, with JetStream's settling rules:
 * ack timers, nak delays, maxDeliver and dead letters.
 */
export class InMemoryDispatcher {
  constructor(private readonly bus: DispatchContext) {}

  /** Delivery always happens on a later turn: never inside the publisher's (or settler's) stack. */
  schedulePump(consumer: ConsumerState): void {
    if (consumer.pumpScheduled || this.bus.isClosed()) return;
    consumer.pumpScheduled = true;
    setImmediate(() => {
      consumer.pumpScheduled = false;
      this.pump(consumer);
    });
  }

  private pump(consumer: ConsumerState): void {
    while (consumer.ready.length > 0 && !this.bus.isClosed()) {
      const subscriber = this.pickSubscriber(consumer);
      if (!subscriber) return;
      const seq = consumer.ready.shift();
      if (seq === undefined) return;
      const entry = consumer.stream.log.get(seq);
      if (!entry) {
        // Removed meanwhile (aged out, or settled through another path).
        consumer.counts.delete(seq);
        continue;
      }
      this.deliver(consumer, subscriber, entry);
    }
  }

  /** Round robin over subscribers with a free slot. */
  private pickSubscriber(consumer: ConsumerState): SubscriberState | undefined {
    const n = consumer.subscribers.length;
    for (let k = 0; k < n; k++) {
      const i = (consumer.nextSubscriber + k) % n;
      const subscriber = consumer.subscribers[i];
      if (subscriber.active < subscriber.concurrency) {
        consumer.nextSubscriber = (i + 1) % n;
        return subscriber;
      }
    }
    return undefined;
  }

  private deliver(consumer: ConsumerState, subscriber: SubscriberState, entry: Entry): void {
    const count = (consumer.counts.get(entry.seq) ?? 0) + 1;
    consumer.counts.set(entry.seq, count);
    const subject = entry.subject as Subject;
    const decoded = decodePayload(subject, entry.data);
    if (!decoded.ok) {
      this.deadLetter(consumer, entry, count, decoded.reason);
      return;
    }
    const attempt: Attempt = { seq: entry.seq, count, timer: undefined };
    consumer.inFlight.set(entry.seq, attempt);
    this.armAckTimer(consumer, attempt);
    const current = () => consumer.inFlight.get(entry.seq) === attempt;

    const delivery: Delivery<Subject> = {
      subject: entry.subject,
      data: decoded.data,
      headers: { ...entry.headers },
      deliveryCount: count,
      ack: async () => {
        if (!current()) return;
        this.finish(consumer, attempt);
      },
      nak: async (delayMs = 0) => {
        if (!current()) return;
        if (count >= consumer.options.maxDeliver) {
          this.deadLetter(consumer, entry, count, `nak on the last of ${consumer.options.maxDeliver} deliveries`, attempt);
          return;
        }
        this.redeliver(consumer, attempt, delayMs);
      },
      term: async (reason: string) => {
        if (!current()) return;
        this.deadLetter(consumer, entry, count, reason, attempt);
      },
      working: async () => {
        if (!current()) return;
        this.armAckTimer(consumer, attempt);
      },
    };

    subscriber.active++;
    const run = (async () => {
      try {
        await subscriber.handler(delivery);
        if (current()) this.finish(consumer, attempt);
      } catch (error) {
        if (!current()) return;
        if (count >= consumer.options.maxDeliver) {
          this.deadLetter(consumer, entry, count, `handler failed on the last of ${consumer.options.maxDeliver} deliveries: ${errorMessage(error)}`, attempt);
        } else {
          this.redeliver(consumer, attempt, this.bus.errorNakDelayMs);
        }
      } finally {
        subscriber.active--;
        this.schedulePump(consumer);
      }
    })();
    subscriber.running.add(run);
    void run.finally(() => subscriber.running.delete(run));
  }

  private armAckTimer(consumer: ConsumerState, attempt: Attempt): void {
    clearTimeout(attempt.timer);
    attempt.timer = setTimeout(() => {
      if (consumer.inFlight.get(attempt.seq) !== attempt) return;
      const entry = consumer.stream.log.get(attempt.seq);
      if (entry && attempt.count >= consumer.options.maxDeliver) {
        this.deadLetter(consumer, entry, attempt.count, `ack wait expired on the last of ${consumer.options.maxDeliver} deliveries`, attempt);
        return;
      }
      this.redeliver(consumer, attempt, 0);
    }, consumer.options.ackWaitMs);
    attempt.timer.unref();
  }

  private redeliver(consumer: ConsumerState, attempt: Attempt, delayMs: number): void {
    clearTimeout(attempt.timer);
    consumer.inFlight.delete(attempt.seq);
    const requeue = () => {
      consumer.ready.push(attempt.seq);
      this.schedulePump(consumer);
    };
    if (delayMs <= 0) {
      requeue();
      return;
    }
    const timer = setTimeout(() => {
      consumer.delayed.delete(timer);
      requeue();
    }, delayMs);
    timer.unref();
    consumer.delayed.add(timer);
  }

  /** The consumer is done with the message; a work queue forgets it. */
  private finish(consumer: ConsumerState, attempt: Attempt | { seq: number; timer?: undefined }): void {
    clearTimeout(attempt.timer);
    consumer.inFlight.delete(attempt.seq);
    consumer.counts.delete(attempt.seq);
    if (consumer.stream.layout.retention === 'workqueue') consumer.stream.log.delete(attempt.seq);
  }

  private deadLetter(consumer: ConsumerState, entry: Entry, deliveryCount: number, reason: string, attempt?: Attempt): void {
    this.bus.recordDeadLetter({ subject: entry.subject, group: consumer.group, payload: entry.data, reason, deliveryCount });
    this.finish(consumer, attempt ?? { seq: entry.seq });
  }
}
