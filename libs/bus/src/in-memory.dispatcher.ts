import { type Subject } from '@weft/contracts';
import { type Decoded, decodePayload, decodeShared, errorMessage } from './bus.defaults';
import { type DeadLetter, type Delivery, type Headers } from './bus.port';
import { type Attempt, type ConsumerState, type Entry, type SubscriberState } from './in-memory.state';

/** How long a consumer that held more than one run's messages stays shared (see `shared`). */
const SHARED_FOR_MS = 250;

/** What delivery needs from its in-memory bus. */
export interface DispatchContext {
  isClosed(): boolean;
  /** Redelivery delay after a handler throws. */
  errorNakDelayMs: number;
  recordDeadLetter(record: Omit<DeadLetter, 'at'>): void;
  /** At most this many messages of one run per delivery turn (0: no limit). */
  deliveriesPerRunPerTurn: number;
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
    const cap = this.bus.deliveriesPerRunPerTurn;
    if (cap > 0 && consumer.ready.length > cap && this.shared(consumer)) {
      this.pumpShared(consumer, cap);
      return;
    }
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

  /**
   * Whether the consumer is shared by runs: its ready messages are of more than one run now, or
   * were within the last SHARED_FOR_MS. A run alone (W1, W2) gets every ready message in one turn,
   * as before; beside others it keeps being capped between their messages, not only while one is queued.
   */
  private shared(consumer: ConsumerState): boolean {
    const now = performance.now();
    if (now < consumer.sharedUntil) return true;
    let first: string | undefined;
    for (const seq of consumer.ready) {
      const runId = consumer.stream.log.get(seq)?.runId;
      if (runId === undefined) continue;
      if (first === undefined) first = runId;
      else if (runId !== first) {
        consumer.sharedUntil = now + SHARED_FOR_MS;
        return true;
      }
    }
    return false;
  }

  /**
   * One turn, oldest first, but at most `cap` messages of any one run: the rest of that run's stay
   * queued, in order, for the next turn (a later macrotask), so a turn's work, and with it another
   * run's wait, is bounded by `cap` per run rather than by a big run's whole window. Messages without
   * a runId are not limited.
   */
  private pumpShared(consumer: ConsumerState, cap: number): void {
    const ready = consumer.ready;
    const taken = new Map<string, number>();
    const left: number[] = [];
    let i = 0;
    let deferred = false;
    for (; i < ready.length && !this.bus.isClosed(); i++) {
      const seq = ready[i];
      const entry = consumer.stream.log.get(seq);
      if (!entry) {
        consumer.counts.delete(seq);
        continue;
      }
      const runId = entry.runId;
      if (runId !== undefined) {
        const n = taken.get(runId) ?? 0;
        if (n >= cap) {
          left.push(seq);
          deferred = true;
          continue;
        }
        taken.set(runId, n + 1);
      }
      const subscriber = this.pickSubscriber(consumer);
      if (!subscriber) break;
      this.deliver(consumer, subscriber, entry);
    }
    // Kept in arrival order: the deferred ones, then whatever the turn did not reach. A handler that
    // settled synchronously may have appended to `ready` meanwhile; those are past `i` and stay.
    consumer.ready = i >= ready.length ? left : left.length === 0 ? ready.slice(i) : left.concat(ready.slice(i));
    if (deferred) this.schedulePump(consumer);
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
    const decoded = decodedFor(consumer, entry);
    if (!decoded.ok) {
      this.deadLetter(consumer, entry, count, decoded.reason);
      return;
    }
    const attempt: Attempt = { seq: entry.seq, count, deadline: 0 };
    this.armAckWait(consumer, attempt);
    // Checked against the entry's subject by the decode; handlers are typed by subject at the call site.
    const delivery = new InMemoryDelivery(this, consumer, entry, attempt, decoded.data as Delivery<Subject>['data']);
    subscriber.active++;
    void this.handle(consumer, subscriber, delivery);
  }

  private async handle(consumer: ConsumerState, subscriber: SubscriberState, delivery: InMemoryDelivery): Promise<void> {
    const { attempt, entry } = delivery;
    try {
      await subscriber.handler(delivery);
      if (isCurrent(consumer, attempt)) this.finish(consumer, attempt);
    } catch (error) {
      if (!isCurrent(consumer, attempt)) return;
      if (attempt.count >= consumer.options.maxDeliver) {
        this.deadLetter(consumer, entry, attempt.count, `handler failed on the last of ${consumer.options.maxDeliver} deliveries: ${errorMessage(error)}`, attempt);
      } else {
        this.redeliver(consumer, attempt, this.bus.errorNakDelayMs);
      }
    } finally {
      subscriber.active--;
      if (subscriber.active === 0 && subscriber.idle.length > 0) for (const resolve of subscriber.idle.splice(0)) resolve();
      this.schedulePump(consumer);
    }
  }

  /**
   * (Re)starts an attempt's ack wait. `inFlight` stays in deadline order (an attempt moves to the
   * end when its wait restarts), so one timer per consumer, due at the earliest deadline, serves all.
   */
  armAckWait(consumer: ConsumerState, attempt: Attempt): void {
    attempt.deadline = performance.now() + consumer.options.ackWaitMs;
    consumer.inFlight.delete(attempt.seq);
    consumer.inFlight.set(attempt.seq, attempt);
    if (consumer.ackSweep === undefined || attempt.deadline < consumer.ackSweepAt) this.scheduleAckSweep(consumer, attempt.deadline);
  }

  private scheduleAckSweep(consumer: ConsumerState, at: number): void {
    clearTimeout(consumer.ackSweep);
    consumer.ackSweepAt = at;
    consumer.ackSweep = setTimeout(() => this.sweepAckWaits(consumer, at), Math.max(0, at - performance.now()));
    consumer.ackSweep.unref();
  }

  /** Expires the attempts whose ack wait has passed; the timer comes back for the next one. */
  private sweepAckWaits(consumer: ConsumerState, dueAt: number): void {
    consumer.ackSweep = undefined;
    // The timer's own due time counts as passed even if the clock says a hair less.
    const now = Math.max(performance.now(), dueAt);
    const expired: Attempt[] = [];
    let next: number | undefined;
    // Usually the expired ones are the first entries; a changed ackWaitMs can break the order, so look at all.
    for (const attempt of consumer.inFlight.values()) {
      if (attempt.deadline <= now) expired.push(attempt);
      else if (next === undefined || attempt.deadline < next) next = attempt.deadline;
    }
    for (const attempt of expired) {
      if (consumer.inFlight.get(attempt.seq) !== attempt) continue;
      const entry = consumer.stream.log.get(attempt.seq);
      if (entry && attempt.count >= consumer.options.maxDeliver) {
        this.deadLetter(consumer, entry, attempt.count, `ack wait expired on the last of ${consumer.options.maxDeliver} deliveries`, attempt);
      } else {
        this.redeliver(consumer, attempt, 0);
      }
    }
    if (next !== undefined && consumer.ackSweep === undefined) this.scheduleAckSweep(consumer, next);
  }

  redeliver(consumer: ConsumerState, attempt: Attempt, delayMs: number): void {
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
  finish(consumer: ConsumerState, attempt: Pick<Attempt, 'seq'>): void {
    consumer.inFlight.delete(attempt.seq);
    consumer.counts.delete(attempt.seq);
    if (consumer.stream.layout.retention === 'workqueue') consumer.stream.log.delete(attempt.seq);
  }

  deadLetter(consumer: ConsumerState, entry: Entry, deliveryCount: number, reason: string, attempt?: Attempt): void {
    this.bus.recordDeadLetter({ subject: entry.subject, group: consumer.group, payload: entry.data, reason, deliveryCount });
    this.finish(consumer, attempt ?? { seq: entry.seq });
  }
}

/** Whether `attempt` is still the message's open one (a superseded attempt settles nothing). */
const isCurrent = (consumer: ConsumerState, attempt: Attempt): boolean => consumer.inFlight.get(attempt.seq) === attempt;

/** A limits stream's message is decoded once for all its groups; a work-queue message per delivery. */
function decodedFor(consumer: ConsumerState, entry: Entry): Decoded<unknown> {
  const subject = entry.subject as Subject;
  if (consumer.stream.layout.retention === 'workqueue') return decodePayload(subject, entry.data);
  entry.decoded ??= decodeShared(subject, entry.data);
  return entry.decoded;
}

/** One delivery attempt as its handler sees it (methods, not closures: one object per delivery). */
class InMemoryDelivery implements Delivery<Subject> {
  readonly subject: string;
  readonly headers: Headers;
  readonly deliveryCount: number;

  constructor(
    private readonly dispatcher: InMemoryDispatcher,
    private readonly consumer: ConsumerState,
    readonly entry: Entry,
    readonly attempt: Attempt,
    readonly data: Delivery<Subject>['data'],
  ) {
    this.subject = entry.subject;
    this.headers = { ...entry.headers };
    this.deliveryCount = attempt.count;
  }

  async ack(): Promise<void> {
    if (isCurrent(this.consumer, this.attempt)) this.dispatcher.finish(this.consumer, this.attempt);
  }

  async nak(delayMs = 0): Promise<void> {
    if (!isCurrent(this.consumer, this.attempt)) return;
    const { maxDeliver } = this.consumer.options;
    if (this.attempt.count >= maxDeliver) {
      this.dispatcher.deadLetter(this.consumer, this.entry, this.attempt.count, `nak on the last of ${maxDeliver} deliveries`, this.attempt);
      return;
    }
    this.dispatcher.redeliver(this.consumer, this.attempt, delayMs);
  }

  async term(reason: string): Promise<void> {
    if (isCurrent(this.consumer, this.attempt)) this.dispatcher.deadLetter(this.consumer, this.entry, this.attempt.count, reason, this.attempt);
  }

  async working(): Promise<void> {
    if (isCurrent(this.consumer, this.attempt)) this.dispatcher.armAckWait(this.consumer, this.attempt);
  }
}
