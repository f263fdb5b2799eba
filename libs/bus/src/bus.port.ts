import type { MessageOf, Subject } from '@weft/contracts';

/**
 * The broker behind a port. Two implementations keep the same semantics and pass
 * one contract suite: `InMemoryBus` (embedded mode, tests) and `JetStreamBus`.
 *
 * Delivery is at least once. A durable subscription with a `group` is shared by all
 * its subscribers: each message goes to one of them (a queue group / durable pull
 * consumer). A message that is neither acked nor termed is delivered again after
 * `ackWaitMs` or after `nak(delay)`.
 */
export interface Bus {
  /**
   * Publishes and resolves once the broker has stored the message. `msgId` deduplicates within the window.
   * Rejects with BusError: NO_STREAM for a subject no stream stores (use `broadcast`), INVALID_SUBJECT,
   * UNSERIALISABLE (not JSON), BUS_CLOSED, BROKER_ERROR. The payload is not validated here: a contract
   * violation is dead-lettered on delivery.
   */
  publish<S extends Subject>(subject: S, payload: MessageOf<S>, options?: PublishOptions): Promise<void>;

  /**
   * Load-balanced consumption of a subject (wildcards `*` and `>` allowed) by a group.
   * Messages whose payload breaks the subject's contract are dead-lettered, never handed over.
   * The consumer is named from `group` and `subject`. By default it is durable and starts at the first
   * stored message; with `startAt: 'new'` it starts at the end of the stream and lives only as long as
   * its subscribers (see ConsumeOptions.startAt).
   * A work-queue subject (dispatches, run requests, results, heartbeats) admits one group per subject:
   * an overlapping second group rejects with CONSUMER_CONFLICT.
   */
  consume<S extends Subject>(subject: S, options: ConsumeOptions, handler: Handler<S>): Promise<Subscription>;

  /** Fan-out to every live listener, no durability (e.g. cancel broadcasts). A listener that throws is reported, not retried. */
  broadcast<S extends Subject>(subject: S, payload: MessageOf<S>, options?: PublishOptions): Promise<void>;
  listen<S extends Subject>(subject: S, handler: (message: MessageOf<S>, headers: Headers) => void | Promise<void>): Promise<Subscription>;

  /** Messages dead-lettered so far (poison messages), newest last. */
  deadLetters(): Promise<DeadLetter[]>;

  /** Backlog of the durable consumers this process subscribed to (metrics: queue depth, consumer pending). */
  consumerStats(): Promise<ConsumerStats[]>;

  /** Readiness: connected, and every consumer of this process is bound. */
  health(): Promise<{ ok: boolean; detail: string }>;

  /** Drains every subscription (waits for in-flight handlers), then disconnects. */
  close(): Promise<void>;
}

export type Headers = Record<string, string>;

/** One durable consumer's backlog, as the broker counts it. */
export interface ConsumerStats {
  /** Durable consumer name, `<group>__<filter>`. */
  name: string;
  group: string;
  /** The subject filter given to `consume` (without prefix). */
  filter: string;
  /** Stored messages matching the filter that the group has not been handed yet. */
  pending: number;
  /** Handed out and not yet acknowledged (including naks waiting for their redelivery delay). */
  ackPending: number;
}

export interface PublishOptions {
  /** De-duplication id; the broker drops a second publish with the same id within its window. */
  msgId?: string;
  /**
   * Extra headers. The bus adds `traceparent`/`tracestate` of its PRODUCER span (a child
   * of the active trace context) and `weft-published-at` (epoch ms).
   */
  headers?: Headers;
}

export interface ConsumeOptions {
  /** Durable consumer / queue group name; all subscribers with the same group share the work. */
  group: string;
  /** How long a delivered message may stay unacknowledged before it is redelivered. @default 30000 */
  ackWaitMs?: number;
  /** Deliveries before the message is dead-lettered. @default 10 */
  maxDeliver?: number;
  /** How many messages this subscriber holds unacknowledged at once. @default 64 */
  concurrency?: number;
  /**
   * Where the group starts when `consume` creates it (joining a group that exists changes nothing):
   * - `'first'`: at the first stored message. The group is durable: it outlives its subscribers, and a
   *   later subscriber resumes where the last one stopped.
   * - `'new'`: only messages published from now on (JetStream `deliver_policy: new`). The group lives
   *   as long as its subscribers: draining this process's last subscriber of it deletes it, and on
   *   JetStream the broker deletes it by itself once nobody has pulled from it for a while (the bus's
   *   `liveConsumerInactiveMs`), so a process that dies leaves nothing behind. Meant for a group of
   *   one process that wants live messages only (the API's event fan-out). Only on subjects of a
   *   limits stream (lifecycle events): a work queue rejects it with INVALID_OPTIONS, as JetStream
   *   allows only `deliver_policy: all` there.
   * @default 'first'
   */
  startAt?: 'first' | 'new';
}

export interface Delivery<S extends Subject> {
  subject: string;
  data: MessageOf<S>;
  headers: Headers;
  /** 1 on first delivery. */
  deliveryCount: number;
  // The first settlement (ack, nak, term) wins; later calls do nothing. Do not count on settling after the
  // ack wait expired: the message is already redelivered (the in-memory bus ignores such a call).
  ack(): Promise<void>;
  /** Redeliver after `delayMs` (default: now). On the last allowed delivery this dead-letters instead. */
  nak(delayMs?: number): Promise<void>;
  /** Never redeliver; dead-letter with the reason. */
  term(reason: string): Promise<void>;
  /** Still working: reset the ack timer. */
  working(): Promise<void>;
}

/**
 * A handler that returns without settling acks; one that throws naks (redelivered after a short delay,
 * 1 s by default), or dead-letters when it was the last allowed delivery.
 */
export type Handler<S extends Subject> = (delivery: Delivery<S>) => Promise<void>;

export interface Subscription {
  /** Stop taking new messages; in-flight handlers finish. */
  drain(): Promise<void>;
}

/** A message the bus gave up on, kept for operators (`weft.deadletter.<subject>` on JetStream). */
export interface DeadLetter {
  subject: string;
  /** Absent for a broadcast a listener rejected. */
  group?: string;
  /** The payload as it was on the wire (JSON text, possibly malformed). */
  payload: string;
  reason: string;
  deliveryCount: number;
  /** ISO 8601 time of dead-lettering. */
  at: string;
}
