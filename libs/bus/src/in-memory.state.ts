import { type Subject } from '@weft/contracts';
import { type Decoded, type ResolvedConsumeOptions } from './bus.defaults';
import { type Handler, type Headers } from './bus.port';
import { type StreamLayout } from './subject.util';

// The in-memory bus's state: streams, consumers and their delivery attempts.

export interface Entry {
  seq: number;
  subject: string;
  /** JSON text, as on the wire. */
  data: string;
  headers: Headers;
  at: number;
  /** The payload's `runId`, when it has one: the dispatcher's turns are shared by run. */
  runId?: string;
  /**
   * Limits streams (lifecycle events, read by every group): the payload decoded and checked once,
   * deep-frozen, and handed to every delivery. Work-queue messages (one group each) are decoded per
   * delivery, so a handler may change its own copy, as on JetStream.
   */
  decoded?: Decoded<unknown>;
}

export interface StreamState {
  layout: StreamLayout;
  log: Map<number, Entry>;
  /** Characters of JSON the log holds (`data`), on a limits stream: what InMemoryBusOptions.eventsMaxBytes bounds. */
  bytes: number;
  /** msgId -> expiry; insertion order is expiry order because the window is constant. */
  dedup: Map<string, number>;
  consumers: ConsumerState[];
  /** Published subject -> the consumers whose filter matches it; cleared whenever `consumers` changes. */
  matching: Map<string, ConsumerState[]>;
  /**
   * When (the bus's clock) the oldest duplicate id or, on a limits stream, the oldest message expires:
   * a publish sweeps only once that has come, not on every call (two Map iterators per publish before).
   */
  sweepAt: number;
}

/** One delivery attempt; settling a superseded attempt has no effect. */
export interface Attempt {
  seq: number;
  count: number;
  /** When the ack wait expires (performance.now() ms); `working()` moves it. */
  deadline: number;
}

export interface ConsumerState {
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
  /** Unsettled attempts by sequence, in the order their ack waits expire (`working()` re-inserts). */
  inFlight: Map<number, Attempt>;
  /** The one timer for the consumer's ack waits, due at `ackSweepAt` (no timer per delivery). */
  ackSweep: NodeJS.Timeout | undefined;
  ackSweepAt: number;
  delayed: Set<NodeJS.Timeout>;
  subscribers: SubscriberState[];
  nextSubscriber: number;
  pumpScheduled: boolean;
  /** Until when (performance.now() ms) delivery turns are shared by run: it last held more than one run's messages. */
  sharedUntil: number;
}

export interface SubscriberState {
  handler: Handler<Subject>;
  concurrency: number;
  /** Handlers in progress. */
  active: number;
  /** Drains waiting for `active` to reach 0 (no promise or set entry per delivery). */
  idle: (() => void)[];
}

export interface ListenerState {
  pattern: string;
  handler: (message: unknown, headers: Headers) => void | Promise<void>;
}
