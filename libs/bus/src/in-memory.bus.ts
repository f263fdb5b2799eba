import { type MessageOf, type Subject } from '@weft/contracts';
import { recordDeadLetter, withProducerSpan } from '@weft/telemetry';
import {
  DEFAULT_DUPLICATE_WINDOW_MS,
  DEFAULT_ERROR_NAK_DELAY_MS,
  DEFAULT_EVENTS_MAX_AGE_MS,
  decodePayload,
  encodePayload,
  errorMessage,
  type ResolvedConsumeOptions,
  resolveConsumeOptions,
} from './bus.defaults';
import { BusError } from './bus.errors';
import {
  type Bus,
  type ConsumeOptions,
  type ConsumerStats,
  type DeadLetter,
  type Delivery,
  type Handler,
  type Headers,
  type PublishOptions,
  type Subscription,
} from './bus.port';
import { instrumentHandler, instrumentListener, sampleConsumerBacklog } from './bus.telemetry';
import {
  assertGroup,
  assertStartAt,
  assertSubject,
  consumerName,
  MESSAGE_STREAMS,
  patternsOverlap,
  type StreamLayout,
  streamForFilter,
  streamForSubject,
  subjectMatches,
} from './subject.util';

export interface InMemoryBusOptions {
  /** Clock for timestamps, the duplicate window and event retention. @default Date.now */
  now?: () => number;
  /** @default 120000 (JetStream's default) */
  duplicateWindowMs?: number;
  /** Lifecycle events older than this are dropped. @default 7 days */
  eventsMaxAgeMs?: number;
  /** Redelivery delay after a handler throws. @default 1000 */
  errorNakDelayMs?: number;
  /** Where failures nobody awaits go (a throwing listener). @default console.error */
  onError?: (error: unknown, context: string) => void;
}

interface Entry {
  seq: number;
  subject: string;
  /** JSON text, as on the wire. */
  data: string;
  headers: Headers;
  at: number;
}

interface StreamState {
  layout: StreamLayout;
  log: Map<number, Entry>;
  /** msgId -> expiry; insertion order is expiry order because the window is constant. */
  dedup: Map<string, number>;
  consumers: ConsumerState[];
}

/** One delivery attempt; settling a superseded attempt has no effect. */
interface Attempt {
  seq: number;
  count: number;
  timer: NodeJS.Timeout | undefined;
}

interface ConsumerState {
  name: string;
  group: string;
  filter: string;
  stream: StreamState;
  options: ResolvedConsumeOptions;
  /** Created with `startAt: 'new'`: forgotten once its last subscriber drained. */
  live: boolean;
  /** Stream sequences waiting for delivery, oldest first. */
  ready: number[];
  /** Deliveries so far of each unfinished message. */
  counts: Map<number, number>;
  inFlight: Map<number, Attempt>;
  delayed: Set<NodeJS.Timeout>;
  subscribers: SubscriberState[];
  nextSubscriber: number;
  pumpScheduled: boolean;
}

interface SubscriberState {
  handler: Handler<Subject>;
  concurrency: number;
  active: number;
  running: Set<Promise<void>>;
}

interface ListenerState {
  pattern: string;
  handler: (message: unknown, headers: Headers) => void | Promise<void>;
}

/**
 * The bus for embedded mode and tests, with JetStream's semantics: per-stream logs,
 * durable groups that start from the first stored message (or live groups that start at
 * the end and go with their last subscriber), work-queue removal on ack, ack timeouts,
 * nak delays, maxDeliver, msgId de-duplication and dead letters.
 */
export class InMemoryBus implements Bus {
  private readonly now: () => number;
  private readonly duplicateWindowMs: number;
  private readonly eventsMaxAgeMs: number;
  private readonly errorNakDelayMs: number;
  private readonly onError: (error: unknown, context: string) => void;
  private readonly streams = new Map<string, StreamState>();
  private readonly consumers = new Map<string, ConsumerState>();
  private readonly subscriptions = new Set<Subscription>();
  private readonly listeners = new Set<ListenerState>();
  private readonly dead: DeadLetter[] = [];
  private seq = 0;
  private closed = false;
  private readonly stopSampling: () => void;

  constructor(options: InMemoryBusOptions = {}) {
    this.now = options.now ?? Date.now;
    this.duplicateWindowMs = options.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS;
    this.eventsMaxAgeMs = options.eventsMaxAgeMs ?? DEFAULT_EVENTS_MAX_AGE_MS;
    this.errorNakDelayMs = options.errorNakDelayMs ?? DEFAULT_ERROR_NAK_DELAY_MS;
    this.onError = options.onError ?? ((error, context) => console.error(`[InMemoryBus] ${context}`, error));
    for (const layout of MESSAGE_STREAMS) this.streams.set(layout.name, { layout, log: new Map(), dedup: new Map(), consumers: [] });
    this.stopSampling = sampleConsumerBacklog(() => this.consumerStats());
  }

  publish<S extends Subject>(subject: S, payload: MessageOf<S>, options: PublishOptions = {}): Promise<void> {
    return withProducerSpan({ subject, operation: 'send', msgId: options.msgId, headers: options.headers }, async (headers) =>
      this.append(subject, payload, { ...options, headers }),
    );
  }

  private async append<S extends Subject>(subject: S, payload: MessageOf<S>, options: PublishOptions): Promise<void> {
    this.assertOpen();
    assertSubject(subject, false);
    const stream = this.stream(streamForSubject(subject));
    const data = encodePayload(subject, payload);
    const now = this.now();
    this.expire(stream, now);
    if (options.msgId !== undefined) {
      const key = options.msgId;
      if (stream.dedup.has(key)) return;
      stream.dedup.set(key, now + this.duplicateWindowMs);
    }
    const headers: Headers = { ...options.headers };
    if (options.msgId !== undefined) headers['Nats-Msg-Id'] = options.msgId;
    const entry: Entry = { seq: ++this.seq, subject, data, headers, at: now };
    stream.log.set(entry.seq, entry);
    for (const consumer of stream.consumers) {
      if (!subjectMatches(consumer.filter, subject)) continue;
      consumer.ready.push(entry.seq);
      this.schedulePump(consumer);
    }
  }

  async consume<S extends Subject>(subject: S, options: ConsumeOptions, handler: Handler<S>): Promise<Subscription> {
    this.assertOpen();
    assertSubject(subject, true);
    assertGroup(options.group);
    const resolved = resolveConsumeOptions(options);
    assertStartAt(streamForFilter(subject), subject, resolved.startAt);
    const consumer = this.consumer(subject, resolved);
    const subscriber: SubscriberState = {
      // Handlers are typed by subject at the call site; the bus validated the payload against that subject.
      handler: instrumentHandler(resolved.group, handler as unknown as Handler<Subject>),
      concurrency: resolved.concurrency,
      active: 0,
      running: new Set(),
    };
    consumer.subscribers.push(subscriber);
    this.schedulePump(consumer);
    const subscription: Subscription = {
      drain: async () => {
        const i = consumer.subscribers.indexOf(subscriber);
        if (i >= 0) consumer.subscribers.splice(i, 1);
        this.subscriptions.delete(subscription);
        while (subscriber.running.size > 0) await Promise.allSettled([...subscriber.running]);
        // A live group goes with its last subscriber (JetStream: deleted on drain, or by the broker after inactivity).
        if (consumer.live && consumer.subscribers.length === 0) this.forget(consumer);
      },
    };
    this.subscriptions.add(subscription);
    return subscription;
  }

  broadcast<S extends Subject>(subject: S, payload: MessageOf<S>, options: PublishOptions = {}): Promise<void> {
    return withProducerSpan({ subject, operation: 'broadcast', msgId: options.msgId, headers: options.headers }, async (headers) =>
      this.fanOut(subject, payload, { ...options, headers }),
    );
  }

  private async fanOut<S extends Subject>(subject: S, payload: MessageOf<S>, options: PublishOptions): Promise<void> {
    this.assertOpen();
    assertSubject(subject, false);
    const data = encodePayload(subject, payload);
    const headers: Headers = { ...options.headers };
    const targets = [...this.listeners].filter((l) => subjectMatches(l.pattern, subject));
    if (targets.length === 0) return;
    setImmediate(() => {
      for (const listener of targets) {
        if (!this.listeners.has(listener)) continue;
        // Each listener decodes its own copy and rejects a bad payload on its own, as NATS subscribers do.
        const decoded = decodePayload(subject, data);
        if (!decoded.ok) {
          this.recordDeadLetter({ subject, payload: data, reason: decoded.reason, deliveryCount: 1 });
          continue;
        }
        void (async () => {
          try {
            await listener.handler(decoded.data, { ...headers });
          } catch (error) {
            this.onError(error, `listener on ${listener.pattern} failed for ${subject}`);
          }
        })();
      }
    });
  }

  async listen<S extends Subject>(subject: S, handler: (message: MessageOf<S>, headers: Headers) => void | Promise<void>): Promise<Subscription> {
    this.assertOpen();
    assertSubject(subject, true);
    const listener: ListenerState = { pattern: subject, handler: instrumentListener(subject, handler as ListenerState['handler']) };
    this.listeners.add(listener);
    return {
      drain: async () => {
        this.listeners.delete(listener);
      },
    };
  }

  async deadLetters(): Promise<DeadLetter[]> {
    return this.dead.map((d) => ({ ...d }));
  }

  async consumerStats(): Promise<ConsumerStats[]> {
    return [...this.consumers.values()].map((c) => ({
      name: c.name,
      group: c.group,
      filter: c.filter,
      pending: c.ready.length,
      ackPending: c.inFlight.size + c.delayed.size,
    }));
  }

  async health(): Promise<{ ok: boolean; detail: string }> {
    if (this.closed) return { ok: false, detail: 'in-memory bus closed' };
    return { ok: true, detail: `in-memory bus: ${this.consumers.size} consumer(s), ${this.subscriptions.size} subscription(s)` };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopSampling();
    this.listeners.clear();
    await Promise.all([...this.subscriptions].map((s) => s.drain()));
    for (const consumer of this.consumers.values()) {
      for (const attempt of consumer.inFlight.values()) clearTimeout(attempt.timer);
      for (const timer of consumer.delayed) clearTimeout(timer);
      consumer.inFlight.clear();
      consumer.delayed.clear();
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new BusError('BUS_CLOSED', 'the bus is closed');
  }

  private stream(layout: StreamLayout): StreamState {
    const stream = this.streams.get(layout.name);
    if (!stream) throw new BusError('NO_STREAM', `stream ${layout.name} is missing`);
    return stream;
  }

  /** Drops expired duplicate ids and, on limits streams, messages older than the max age. */
  private expire(stream: StreamState, now: number): void {
    for (const [id, expiry] of stream.dedup) {
      if (expiry > now) break;
      stream.dedup.delete(id);
    }
    if (stream.layout.retention !== 'limits') return;
    for (const [seq, entry] of stream.log) {
      if (now - entry.at < this.eventsMaxAgeMs) break;
      stream.log.delete(seq);
    }
  }

  /** Finds or creates the durable consumer, as `consume` does on JetStream (create or update). */
  private consumer(filter: string, options: ResolvedConsumeOptions): ConsumerState {
    const name = consumerName(options.group, filter);
    const existing = this.consumers.get(name);
    if (existing) {
      existing.options = options;
      return existing;
    }
    const stream = this.stream(streamForFilter(filter));
    if (stream.layout.retention === 'workqueue') {
      const clash = stream.consumers.find((c) => patternsOverlap(c.filter, filter));
      if (clash) {
        throw new BusError(
          'CONSUMER_CONFLICT',
          `work-queue stream ${stream.layout.name} already has consumer ${clash.name} on "${clash.filter}", which overlaps "${filter}"`,
        );
      }
    }
    const consumer: ConsumerState = {
      name,
      group: options.group,
      filter,
      stream,
      options,
      live: options.startAt === 'new',
      // Durable consumers start at the first stored message, like DeliverPolicy.All; live ones at the end (DeliverPolicy.New).
      ready: options.startAt === 'new' ? [] : [...stream.log.values()].filter((e) => subjectMatches(filter, e.subject)).map((e) => e.seq),
      counts: new Map(),
      inFlight: new Map(),
      delayed: new Set(),
      subscribers: [],
      nextSubscriber: 0,
      pumpScheduled: false,
    };
    stream.consumers.push(consumer);
    this.consumers.set(name, consumer);
    return consumer;
  }

  /** Removes a consumer with whatever it had pending, as deleting a JetStream consumer does. */
  private forget(consumer: ConsumerState): void {
    if (this.consumers.get(consumer.name) !== consumer) return;
    this.consumers.delete(consumer.name);
    const i = consumer.stream.consumers.indexOf(consumer);
    if (i >= 0) consumer.stream.consumers.splice(i, 1);
    for (const attempt of consumer.inFlight.values()) clearTimeout(attempt.timer);
    for (const timer of consumer.delayed) clearTimeout(timer);
    consumer.inFlight.clear();
    consumer.delayed.clear();
    consumer.ready.length = 0;
    consumer.counts.clear();
  }

  /** Delivery always happens on a later turn: never inside the publisher's (or settler's) stack. */
  private schedulePump(consumer: ConsumerState): void {
    if (consumer.pumpScheduled || this.closed) return;
    consumer.pumpScheduled = true;
    setImmediate(() => {
      consumer.pumpScheduled = false;
      this.pump(consumer);
    });
  }

  private pump(consumer: ConsumerState): void {
    while (consumer.ready.length > 0 && !this.closed) {
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
          this.redeliver(consumer, attempt, this.errorNakDelayMs);
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
    this.recordDeadLetter({ subject: entry.subject, group: consumer.group, payload: entry.data, reason, deliveryCount });
    this.finish(consumer, attempt ?? { seq: entry.seq });
  }

  private recordDeadLetter(record: Omit<DeadLetter, 'at'>): void {
    this.dead.push({ ...record, at: new Date(this.now()).toISOString() });
    recordDeadLetter(record.subject);
  }
}
