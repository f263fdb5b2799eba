import { type MessageOf, type Subject } from '@weft/contracts';
import { recordDeadLetter, withProducerSpan } from '@weft/telemetry';
import {
  DEFAULT_DUPLICATE_WINDOW_MS,
  DEFAULT_ERROR_NAK_DELAY_MS,
  DEFAULT_EVENTS_MAX_AGE_MS,
  DEFAULT_EVENTS_MAX_BYTES,
  decodePayload,
  encodePayload,
  type ResolvedConsumeOptions,
  resolveConsumeOptions,
} from './bus.defaults';
import { BusError } from './bus.errors';
import {
  type Bus,
  type ConsumeOptions,
  type ConsumerStats,
  type DeadLetter,
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
import { InMemoryDispatcher } from './in-memory.dispatcher';
import { type ConsumerState, type Entry, type ListenerState, type StreamState, type SubscriberState } from './in-memory.state';

/** See InMemoryBusOptions.deliveriesPerRunPerTurn. */
export const DEFAULT_DELIVERIES_PER_RUN_PER_TURN = 8;

export interface InMemoryBusOptions {
  /** Clock for timestamps, the duplicate window and event retention. @default Date.now */
  now?: () => number;
  /** @default 120000 (JetStream's default) */
  duplicateWindowMs?: number;
  /** Lifecycle events older than this are dropped. @default 7 days */
  eventsMaxAgeMs?: number;
  /**
   * Lifecycle events kept in memory, in characters of their JSON: past it the oldest are dropped,
   * once every consumer of the stream has settled them (a consumer still owing one keeps it, and
   * everything after it). A long-lived embedded host does not grow with the events of its week.
   * @default DEFAULT_EVENTS_MAX_BYTES (16 MiB)
   */
  eventsMaxBytes?: number;
  /** Redelivery delay after a handler throws. @default 1000 */
  errorNakDelayMs?: number;
  /** Where failures nobody awaits go (a throwing listener). @default console.error */
  onError?: (error: unknown, context: string) => void;
  /**
   * Fair share across runs: a consumer's delivery turn hands out at most this many of one run's
   * messages (by the payload's `runId`) and leaves the rest, in order, for its next turn, so another
   * run's message waits behind a bounded share of a big run's work, not its whole window.
   * 0 turns it off (every ready message in one turn, oldest first). @default 8
   */
  deliveriesPerRunPerTurn?: number;
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
  private readonly eventsMaxBytes: number;
  private readonly onError: (error: unknown, context: string) => void;
  private readonly streams = new Map<string, StreamState>();
  private readonly consumers = new Map<string, ConsumerState>();
  private readonly subscriptions = new Set<Subscription>();
  private readonly listeners = new Set<ListenerState>();
  private readonly dead: DeadLetter[] = [];
  /** Published subject -> its stream (validated). */
  private readonly publishStreams = new Map<string, StreamState>();
  private seq = 0;
  private closed = false;
  private readonly stopSampling: () => void;
  private readonly dispatcher: InMemoryDispatcher;

  constructor(options: InMemoryBusOptions = {}) {
    this.now = options.now ?? Date.now;
    this.duplicateWindowMs = options.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS;
    this.eventsMaxAgeMs = options.eventsMaxAgeMs ?? DEFAULT_EVENTS_MAX_AGE_MS;
    this.eventsMaxBytes = options.eventsMaxBytes ?? DEFAULT_EVENTS_MAX_BYTES;
    this.onError = options.onError ?? ((error, context) => console.error(`[InMemoryBus] ${context}`, error));
    for (const layout of MESSAGE_STREAMS) this.streams.set(layout.name, { layout, log: new Map(), bytes: 0, dedup: new Map(), consumers: [], matching: new Map(), sweepAt: Infinity });
    this.dispatcher = new InMemoryDispatcher({
      isClosed: () => this.closed,
      errorNakDelayMs: options.errorNakDelayMs ?? DEFAULT_ERROR_NAK_DELAY_MS,
      deliveriesPerRunPerTurn: options.deliveriesPerRunPerTurn ?? DEFAULT_DELIVERIES_PER_RUN_PER_TURN,
      recordDeadLetter: (record) => this.recordDeadLetter(record),
    });
    this.stopSampling = sampleConsumerBacklog(() => this.consumerStats());
  }

  publish<S extends Subject>(subject: S, payload: MessageOf<S>, options: PublishOptions = {}): Promise<void> {
    // withProducerSpan hands over a fresh headers object: the entry keeps it without another copy.
    return withProducerSpan({ subject, operation: 'send', msgId: options.msgId, headers: options.headers }, async (headers) => this.append(subject, payload, options.msgId, headers));
  }

  private async append<S extends Subject>(subject: S, payload: MessageOf<S>, msgId: string | undefined, headers: Headers): Promise<void> {
    this.assertOpen();
    const stream = this.streamOf(subject);
    const data = encodePayload(subject, payload);
    const now = this.now();
    if (now >= stream.sweepAt) this.expire(stream, now);
    if (msgId !== undefined) {
      // Checked against its expiry: the sweep may not have run since the id's window closed.
      const until = stream.dedup.get(msgId);
      if (until !== undefined && until > now) return;
      // Re-inserted at the end, so insertion order stays expiry order.
      if (until !== undefined) stream.dedup.delete(msgId);
      stream.dedup.set(msgId, now + this.duplicateWindowMs);
      stream.sweepAt = Math.min(stream.sweepAt, now + this.duplicateWindowMs);
      headers['Nats-Msg-Id'] = msgId;
    }
    const entry: Entry = { seq: ++this.seq, subject, data, headers, at: now };
    const runId = (payload as { runId?: unknown }).runId;
    if (typeof runId === 'string') entry.runId = runId;
    stream.log.set(entry.seq, entry);
    if (stream.layout.retention === 'limits') {
      stream.sweepAt = Math.min(stream.sweepAt, now + this.eventsMaxAgeMs);
      stream.bytes += data.length;
      if (stream.bytes > this.eventsMaxBytes) this.trim(stream, entry.seq);
    }
    for (const consumer of this.matching(stream, subject)) {
      consumer.ready.push(entry.seq);
      this.dispatcher.schedulePump(consumer);
    }
  }

  /** The stream a published subject goes to, checked once per subject (subjects repeat: queues, event types). */
  private streamOf(subject: string): StreamState {
    let stream = this.publishStreams.get(subject);
    if (stream === undefined) {
      assertSubject(subject, false);
      stream = this.stream(streamForSubject(subject));
      remember(this.publishStreams, subject, stream);
    }
    return stream;
  }

  /** The stream's consumers whose filter matches `subject`, matched once per subject until the consumers change. */
  private matching(stream: StreamState, subject: string): readonly ConsumerState[] {
    let consumers = stream.matching.get(subject);
    if (consumers === undefined) {
      consumers = stream.consumers.filter((c) => subjectMatches(c.filter, subject));
      remember(stream.matching, subject, consumers);
    }
    return consumers;
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
      idle: [],
    };
    consumer.subscribers.push(subscriber);
    this.dispatcher.schedulePump(consumer);
    const subscription: Subscription = {
      drain: async () => {
        const i = consumer.subscribers.indexOf(subscriber);
        if (i >= 0) consumer.subscribers.splice(i, 1);
        this.subscriptions.delete(subscription);
        while (subscriber.active > 0) await new Promise<void>((resolve) => subscriber.idle.push(resolve));
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
      clearTimeout(consumer.ackSweep);
      consumer.ackSweep = undefined;
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

  /** Drops expired duplicate ids and, on limits streams, messages older than the max age; notes when the next one is due. */
  private expire(stream: StreamState, now: number): void {
    let sweepAt = Infinity;
    for (const [id, expiry] of stream.dedup) {
      if (expiry > now) {
        sweepAt = expiry;
        break;
      }
      stream.dedup.delete(id);
    }
    if (stream.layout.retention === 'limits') {
      for (const [seq, entry] of stream.log) {
        if (now - entry.at < this.eventsMaxAgeMs) {
          sweepAt = Math.min(sweepAt, entry.at + this.eventsMaxAgeMs);
          break;
        }
        stream.log.delete(seq);
        stream.bytes -= entry.data.length;
      }
    }
    stream.sweepAt = sweepAt;
  }

  /**
   * Drops a limits stream's oldest messages while it holds more than eventsMaxBytes, but none a
   * consumer still owes (one waiting for delivery, or delivered and not settled) and not `newest`,
   * the message being appended: the consumers' queues get it only after this, and a message larger
   * than the bound on its own is still delivered.
   */
  private trim(stream: StreamState, newest: number): void {
    let floor = newest;
    for (const consumer of stream.consumers) {
      // Never-delivered messages wait in publish order; a message given back (nak, ack wait) is in counts.
      if (consumer.ready.length > 0) floor = Math.min(floor, consumer.ready[0]);
      for (const seq of consumer.counts.keys()) floor = Math.min(floor, seq);
    }
    for (const [seq, entry] of stream.log) {
      if (stream.bytes <= this.eventsMaxBytes || seq >= floor) break;
      stream.log.delete(seq);
      stream.bytes -= entry.data.length;
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
      ackSweep: undefined,
      ackSweepAt: 0,
      delayed: new Set(),
      subscribers: [],
      nextSubscriber: 0,
      pumpScheduled: false,
      sharedUntil: 0,
    };
    stream.consumers.push(consumer);
    stream.matching.clear();
    this.consumers.set(name, consumer);
    return consumer;
  }

  /** Removes a consumer with whatever it had pending, as deleting a JetStream consumer does. */
  private forget(consumer: ConsumerState): void {
    if (this.consumers.get(consumer.name) !== consumer) return;
    this.consumers.delete(consumer.name);
    const i = consumer.stream.consumers.indexOf(consumer);
    if (i >= 0) consumer.stream.consumers.splice(i, 1);
    consumer.stream.matching.clear();
    clearTimeout(consumer.ackSweep);
    consumer.ackSweep = undefined;
    for (const timer of consumer.delayed) clearTimeout(timer);
    consumer.inFlight.clear();
    consumer.delayed.clear();
    consumer.ready.length = 0;
    consumer.counts.clear();
  }

  private recordDeadLetter(record: Omit<DeadLetter, 'at'>): void {
    this.dead.push({ ...record, at: new Date(this.now()).toISOString() });
    recordDeadLetter(record.subject);
  }
}

/** Subject caches stay bounded: signal names are the users' (a full cache starts over). */
const SUBJECT_CACHE_LIMIT = 4_096;

function remember<V>(cache: Map<string, V>, subject: string, value: V): void {
  if (cache.size >= SUBJECT_CACHE_LIMIT) cache.clear();
  cache.set(subject, value);
}
