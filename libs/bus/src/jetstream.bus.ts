import {
  AckPolicy,
  type Consumer,
  type ConsumerConfig,
  type ConsumerMessages,
  DeliverPolicy,
  DiscardPolicy,
  jetstream,
  type JetStreamClient,
  type JetStreamManager,
  jetstreamManager,
  JetStreamApiError,
  type JsMsg,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from '@nats-io/jetstream';
import {
  connect,
  headers as natsHeaders,
  InvalidArgumentError,
  type MsgHdrs,
  nanos,
  type NatsConnection,
  type Subscription as NatsSubscription,
} from '@nats-io/transport-node';
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
import { instrumentHandler, instrumentListener, type Listener, sampleConsumerBacklog } from './bus.telemetry';
import {
  assertGroup,
  assertStartAt,
  assertSubject,
  consumerName,
  DEAD_LETTER_STREAM,
  DEAD_LETTER_SUBJECT_PREFIX,
  MESSAGE_STREAMS,
  type StreamLayout,
  streamForFilter,
  streamForSubject,
} from './subject.util';

export interface JetStreamBusOptions {
  servers: string | string[];
  /** Connection name shown by the server (e.g. the service name). */
  name?: string;
  /** Isolates deployments and tests: wire subjects become `<prefix>.<subject>`, stream names `<PREFIX>_<NAME>`. */
  prefix?: string;
  /** Retention of lifecycle events. @default 7 days */
  eventsMaxAgeMs?: number;
  /** Retention of dead letters. @default 30 days */
  deadLetterMaxAgeMs?: number;
  /** JetStream de-duplication window of every stream. @default 120000 */
  duplicateWindowMs?: number;
  /**
   * Replicas of every stream, 1 to 5 (`WEFT_NATS_REPLICAS`). Given: streams are created with it,
   * and the boot-time update scales an existing stream to it (a JetStream cluster copies or drops
   * the data; consumers follow their stream). Left out: a new stream gets 1 and an existing one
   * keeps the count it has. More than 1 needs a JetStream cluster of at least that many servers:
   * against a standalone server, or too few servers, connect() rejects with INVALID_OPTIONS.
   */
  replicas?: number;
  /** Lifetime of one pull request; missed-heartbeat detection is half of it. Min 1000. @default 30000 */
  pullExpiresMs?: number;
  /** Redelivery delay after a handler throws. @default 1000 */
  errorNakDelayMs?: number;
  /**
   * `inactive_threshold` of consumers created with `startAt: 'new'`: the server deletes one nobody
   * has pulled from for this long (a subscriber always has a pull waiting, so only a dead or cut-off
   * process's consumer goes). Min 1000. @default 60000
   */
  liveConsumerInactiveMs?: number;
  /** Where failures nobody awaits go (recoveries, throwing listeners). @default console.error */
  onError?: (error: unknown, context: string) => void;
}

const DEFAULT_DEAD_LETTER_MAX_AGE_MS = 30 * 24 * 3_600_000;
const DEFAULT_PULL_EXPIRES_MS = 30_000;
const DEFAULT_LIVE_CONSUMER_INACTIVE_MS = 60_000;
/** How many dead letters `deadLetters()` reads, newest last. */
const DEAD_LETTER_READ_LIMIT = 1_000;
const JS_CONSUMER_NOT_UNIQUE_ON_WORKQUEUE = 10100;
const JS_STREAM_NOT_FOUND = 10059;
const JS_CONSUMER_NOT_FOUND = 10014;
const JS_NO_MESSAGE_FOUND = 10037;
const JS_REPLICAS_NOT_SUPPORTED = 10074;
const JS_NO_SUITABLE_PEERS = 10005;
const MAX_REPLICAS = 5;
const PREFIX = /^[A-Za-z0-9_-]+$/;

type StreamSetup = Partial<StreamConfig> & { name: string };

type Settings = Required<Omit<JetStreamBusOptions, 'name' | 'servers' | 'replicas'>> & { replicas: number | undefined };

interface LoopContext {
  js: JetStreamClient;
  jsm: JetStreamManager;
  nc: NatsConnection;
  settings: Settings;
  wire(subject: string): string;
  unwire(subject: string): string;
  writeDeadLetter(record: Omit<DeadLetter, 'at'>, msgId?: string): Promise<void>;
}

interface MaxDeliveriesAdvisory {
  stream: string;
  consumer: string;
  stream_seq: number;
  deliveries: number;
}

/**
 * The bus on NATS JetStream (server 2.9+). Durable messages go through four streams
 * created at boot; `broadcast`/`listen` use core NATS. See docs/bus.md.
 */
export class JetStreamBus implements Bus {
  private readonly loops = new Set<PullLoop>();
  private readonly listeners = new Set<NatsSubscription>();
  private connected = true;
  private closed = false;
  private readonly stopSampling: () => void;
  /** What a pull loop needs from its bus, without widening the bus's public surface. */
  private readonly context: LoopContext;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly settings: Settings,
  ) {
    this.context = {
      js,
      jsm,
      nc,
      settings,
      wire: (subject) => this.wire(subject),
      unwire: (subject) => this.unwire(subject),
      writeDeadLetter: (record, msgId) => this.writeDeadLetter(record, msgId),
    };
    void this.watchConnection();
    this.stopSampling = sampleConsumerBacklog(() => this.consumerStats());
  }

  static async connect(options: JetStreamBusOptions): Promise<JetStreamBus> {
    const prefix = options.prefix ?? '';
    if (prefix !== '' && !PREFIX.test(prefix)) throw new BusError('INVALID_OPTIONS', `invalid prefix "${prefix}": use letters, digits, "_" and "-"`);
    const settings = {
      prefix,
      eventsMaxAgeMs: options.eventsMaxAgeMs ?? DEFAULT_EVENTS_MAX_AGE_MS,
      deadLetterMaxAgeMs: options.deadLetterMaxAgeMs ?? DEFAULT_DEAD_LETTER_MAX_AGE_MS,
      duplicateWindowMs: options.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS,
      pullExpiresMs: options.pullExpiresMs ?? DEFAULT_PULL_EXPIRES_MS,
      errorNakDelayMs: options.errorNakDelayMs ?? DEFAULT_ERROR_NAK_DELAY_MS,
      liveConsumerInactiveMs: options.liveConsumerInactiveMs ?? DEFAULT_LIVE_CONSUMER_INACTIVE_MS,
      replicas: options.replicas,
      onError: options.onError ?? ((error: unknown, context: string) => console.error(`[JetStreamBus] ${context}`, error)),
    };
    if (settings.pullExpiresMs < 1000) throw new BusError('INVALID_OPTIONS', 'pullExpiresMs must be at least 1000');
    if (!(settings.liveConsumerInactiveMs >= 1000)) throw new BusError('INVALID_OPTIONS', 'liveConsumerInactiveMs must be at least 1000');
    const { replicas } = settings;
    if (replicas !== undefined && !(Number.isInteger(replicas) && replicas >= 1 && replicas <= MAX_REPLICAS)) {
      throw new BusError('INVALID_OPTIONS', `stream replicas (option replicas, WEFT_NATS_REPLICAS) must be an integer from 1 to ${MAX_REPLICAS}, got ${replicas}`);
    }
    let nc: NatsConnection;
    try {
      // Reconnects are the client's job: never give up on the server.
      // noAsyncTraces: no stack capture per request. Every JetStream publish is a request, and
      // building two Error objects for each was ~7% of a busy scheduler's CPU (docs/benchmarks.md).
      nc = await connect({ servers: options.servers, name: options.name, maxReconnectAttempts: -1, noAsyncTraces: true });
    } catch (cause) {
      throw new BusError('BROKER_ERROR', `cannot connect to NATS at ${String(options.servers)}: ${errorMessage(cause)}`, { cause });
    }
    try {
      const jsm = await jetstreamManager(nc);
      const bus = new JetStreamBus(nc, jetstream(nc), jsm, settings);
      await bus.ensureStreams();
      return bus;
    } catch (cause) {
      await nc.close();
      throw cause instanceof BusError ? cause : new BusError('BROKER_ERROR', `JetStream setup failed: ${errorMessage(cause)}`, { cause });
    }
  }

  /** Stream name on the server for a layout (prefixed). */
  streamName(layout: StreamLayout): string {
    return this.settings.prefix ? `${this.settings.prefix.toUpperCase()}_${layout.name}` : layout.name;
  }

  /** Every stream this bus owns, for cleanup in tests and operations. */
  streamNames(): string[] {
    return [...MESSAGE_STREAMS, DEAD_LETTER_STREAM].map((l) => this.streamName(l));
  }

  async publish<S extends Subject>(subject: S, payload: MessageOf<S>, options: PublishOptions = {}): Promise<void> {
    this.assertOpen();
    assertSubject(subject, false);
    streamForSubject(subject);
    const data = encodePayload(subject, payload);
    await withProducerSpan({ subject, operation: 'send', msgId: options.msgId, headers: options.headers }, async (headers) => {
      try {
        await this.js.publish(this.wire(subject), data, {
          headers: toNatsHeaders(headers),
          ...(options.msgId !== undefined ? { msgID: options.msgId } : {}),
        });
      } catch (cause) {
        // The client refuses a message over the server's max_payload before sending it.
        const tooLarge = cause instanceof InvalidArgumentError && /max_payload/.test(cause.message);
        throw new BusError(tooLarge ? 'PAYLOAD_TOO_LARGE' : 'BROKER_ERROR', `publish to ${subject} failed: ${errorMessage(cause)}`, { cause });
      }
    });
  }

  async consume<S extends Subject>(subject: S, options: ConsumeOptions, handler: Handler<S>): Promise<Subscription> {
    this.assertOpen();
    assertSubject(subject, true);
    assertGroup(options.group);
    const resolved = resolveConsumeOptions(options);
    const layout = streamForFilter(subject);
    assertStartAt(layout, subject, resolved.startAt);
    // Handlers are typed by subject at the call site; payloads are validated against their subject before delivery.
    const instrumented = instrumentHandler(resolved.group, handler as unknown as Handler<Subject>);
    const loop = new PullLoop(this.context, layout, this.streamName(layout), subject, resolved, instrumented);
    await loop.ensureConsumer();
    loop.start();
    this.loops.add(loop);
    return {
      drain: async () => {
        this.loops.delete(loop);
        await loop.drain();
        await this.removeIfLast(loop);
      },
    };
  }

  async broadcast<S extends Subject>(subject: S, payload: MessageOf<S>, options: PublishOptions = {}): Promise<void> {
    this.assertOpen();
    assertSubject(subject, false);
    const data = encodePayload(subject, payload);
    await withProducerSpan({ subject, operation: 'broadcast', msgId: options.msgId, headers: options.headers }, async (headers) => {
      try {
        this.nc.publish(this.wire(subject), data, { headers: toNatsHeaders(headers) });
        await this.nc.flush();
      } catch (cause) {
        throw new BusError('BROKER_ERROR', `broadcast on ${subject} failed: ${errorMessage(cause)}`, { cause });
      }
    });
  }

  async listen<S extends Subject>(subject: S, handler: (message: MessageOf<S>, headers: Headers) => void | Promise<void>): Promise<Subscription> {
    this.assertOpen();
    assertSubject(subject, true);
    const listener = instrumentListener(subject, handler as Listener);
    const sub = this.nc.subscribe(this.wire(subject), {
      callback: (error, msg) => {
        if (error) {
          this.settings.onError(error, `listener on ${subject}`);
          return;
        }
        const actual = this.unwire(msg.subject) as S;
        const text = msg.string();
        const decoded = decodePayload(actual, text);
        if (!decoded.ok) {
          void this.writeDeadLetter({ subject: actual, payload: text, reason: decoded.reason, deliveryCount: 1 }).catch((e: unknown) =>
            this.settings.onError(e, `dead-lettering a broadcast on ${actual}`),
          );
          return;
        }
        void (async () => {
          try {
            await listener(decoded.data, fromNatsHeaders(msg.headers));
          } catch (e) {
            this.settings.onError(e, `listener on ${subject} failed for ${actual}`);
          }
        })();
      },
    });
    this.listeners.add(sub);
    // The server must know the subscription before we report it live.
    await this.nc.flush();
    return {
      drain: async () => {
        this.listeners.delete(sub);
        if (!sub.isClosed()) await sub.drain();
      },
    };
  }

  async deadLetters(): Promise<DeadLetter[]> {
    const stream = this.streamName(DEAD_LETTER_STREAM);
    const info = await this.jsm.streams.info(stream);
    const { first_seq: first, last_seq: last, messages } = info.state;
    if (messages === 0) return [];
    const records: DeadLetter[] = [];
    for (let seq = Math.max(first, last - DEAD_LETTER_READ_LIMIT + 1); seq <= last; seq++) {
      const stored = await this.jsm.streams.getMessage(stream, { seq }).catch((error: unknown) => {
        if (isApiError(error, JS_NO_MESSAGE_FOUND)) return null;
        throw error;
      });
      if (stored) records.push(stored.json<DeadLetter>());
    }
    return records;
  }

  async consumerStats(): Promise<ConsumerStats[]> {
    // Several subscribers of one group share a consumer: ask once per consumer.
    const unique = [...new Map([...this.loops].map((loop) => [`${loop.stream}/${loop.name}`, loop])).values()];
    return Promise.all(
      unique.map(async (loop) => {
        const info = await this.jsm.consumers.info(loop.stream, loop.name);
        return { name: loop.name, group: loop.group, filter: loop.filter, pending: info.num_pending, ackPending: info.num_ack_pending };
      }),
    );
  }

  async health(): Promise<{ ok: boolean; detail: string }> {
    if (this.closed || this.nc.isClosed()) return { ok: false, detail: 'closed' };
    if (!this.connected) return { ok: false, detail: 'disconnected from NATS (reconnecting)' };
    const problems: string[] = [];
    for (const loop of this.loops) {
      try {
        await this.jsm.consumers.info(loop.stream, loop.name);
      } catch (error) {
        problems.push(`${loop.stream}/${loop.name}: ${errorMessage(error)}`);
      }
    }
    if (problems.length > 0) return { ok: false, detail: `consumer(s) not bound: ${problems.join('; ')}` };
    return { ok: true, detail: `connected to ${this.nc.getServer()}, ${this.loops.size} consumer subscription(s) bound` };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopSampling();
    const loops = [...this.loops];
    this.loops.clear();
    await Promise.all(loops.map((l) => l.drain()));
    await Promise.all(loops.map((l) => this.removeIfLast(l)));
    this.listeners.clear();
    if (this.nc.isClosed()) return;
    try {
      await this.nc.drain();
    } catch (error) {
      // Draining needs the server; while it is unreachable, closing is the best we can do.
      this.settings.onError(error, 'draining the NATS connection failed; closing it');
      await this.nc.close();
    }
  }

  private wire(subject: string): string {
    return this.settings.prefix ? `${this.settings.prefix}.${subject}` : subject;
  }

  private unwire(subject: string): string {
    const p = `${this.settings.prefix}.`;
    return this.settings.prefix && subject.startsWith(p) ? subject.slice(p.length) : subject;
  }

  /** Stores a dead-letter record; `msgId` makes replicas and retries write it once. */
  private async writeDeadLetter(record: Omit<DeadLetter, 'at'>, msgId?: string): Promise<void> {
    const full: DeadLetter = { ...record, at: new Date().toISOString() };
    const ack = await this.js.publish(this.wire(`${DEAD_LETTER_SUBJECT_PREFIX}${record.subject}`), JSON.stringify(full), msgId !== undefined ? { msgID: msgId } : {});
    // Every replica that saw the max-deliveries advisory writes the record; count it once.
    if (!ack.duplicate) recordDeadLetter(record.subject);
  }

  private assertOpen(): void {
    if (this.closed) throw new BusError('BUS_CLOSED', 'the bus is closed');
  }

  /**
   * A live (`startAt: 'new'`) consumer goes with this process's last subscriber of it. Best effort:
   * without the server the broker deletes it after `liveConsumerInactiveMs` anyway.
   */
  private async removeIfLast(drained: PullLoop): Promise<void> {
    if (!drained.live || [...this.loops].some((l) => l.stream === drained.stream && l.name === drained.name)) return;
    if (!this.connected || this.nc.isClosed()) return;
    await this.jsm.consumers.delete(drained.stream, drained.name).catch((error: unknown) => {
      if (!isApiError(error, JS_CONSUMER_NOT_FOUND) && !isApiError(error, JS_STREAM_NOT_FOUND)) this.settings.onError(error, `deleting live consumer ${drained.stream}/${drained.name}`);
    });
  }

  private async watchConnection(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type === 'disconnect') this.connected = false;
      else if (status.type === 'reconnect') this.connected = true;
    }
  }

  /** Create or update each stream: boots are idempotent and pick up changed limits (and replicas, when given). */
  private async ensureStreams(): Promise<void> {
    const window = this.settings.duplicateWindowMs;
    const { replicas } = this.settings;
    // A standalone server refuses to create a replicated stream, but nats-server 2.9 accepts an
    // update to more replicas and then reports a count it does not keep: refuse before either.
    if (replicas !== undefined && replicas > 1 && this.nc.info?.cluster === undefined) {
      throw replicasError(replicas, `the NATS server ${this.nc.getServer()} is standalone (no cluster), and standalone JetStream keeps one copy of each stream`);
    }
    for (const layout of [...MESSAGE_STREAMS, DEAD_LETTER_STREAM]) {
      const maxAgeMs = layout === DEAD_LETTER_STREAM ? this.settings.deadLetterMaxAgeMs : layout.retention === 'limits' ? this.settings.eventsMaxAgeMs : 0;
      const config: StreamSetup = {
        name: this.streamName(layout),
        subjects: layout.subjects.map((s) => this.wire(s)),
        retention: layout.retention === 'workqueue' ? RetentionPolicy.Workqueue : RetentionPolicy.Limits,
        storage: StorageType.File,
        discard: DiscardPolicy.Old,
        max_age: nanos(maxAgeMs),
        // The server rejects a duplicate window longer than max age.
        duplicate_window: nanos(maxAgeMs > 0 ? Math.min(window, maxAgeMs) : window),
        num_replicas: replicas ?? 1,
      };
      await this.createOrUpdateStream(config);
    }
  }

  private async createOrUpdateStream(config: StreamSetup): Promise<void> {
    const replicas = config.num_replicas ?? 1;
    try {
      await this.jsm.streams.info(config.name);
    } catch (error) {
      if (!isApiError(error, JS_STREAM_NOT_FOUND)) throw error;
      try {
        await this.jsm.streams.add(config);
        return;
      } catch (addError) {
        throwIfReplicasRefused(addError, replicas);
        // Another process created it meanwhile: fall through to update.
        if (!(addError instanceof JetStreamApiError)) throw addError;
      }
    }
    const { name, ...update } = config;
    // The client merges the update into the stream's config: left out, the replica count stays.
    if (this.settings.replicas === undefined) delete update.num_replicas;
    try {
      await this.jsm.streams.update(name, update);
    } catch (error) {
      throwIfReplicasRefused(error, replicas);
      throw error;
    }
  }
}

function replicasError(replicas: number, why: string): BusError {
  return new BusError(
    'INVALID_OPTIONS',
    `cannot keep ${replicas} replicas of Weft's streams (option replicas, WEFT_NATS_REPLICAS=${replicas}): ${why}. ` +
      'Use 1 with a standalone server, or at most the number of JetStream servers of the cluster.',
  );
}

/** Turns the server's refusals of a replica count into an error that names the setting. */
function throwIfReplicasRefused(error: unknown, replicas: number): void {
  if (replicas <= 1) return;
  if (isApiError(error, JS_REPLICAS_NOT_SUPPORTED)) throw replicasError(replicas, `the server refused (${errorMessage(error)})`);
  if (isApiError(error, JS_NO_SUITABLE_PEERS)) {
    throw replicasError(replicas, `the JetStream cluster has fewer than ${replicas} servers available to place them on (${errorMessage(error)})`);
  }
}

/**
 * One subscriber of a durable pull consumer. It pulls with `fetch` for exactly the free
 * handler slots: `consume()` refills on receipt, so a slow handler would hoard messages
 * beyond `concurrency` while their ack wait runs out. Any failure (consumer deleted,
 * missed heartbeats, reconnect) recreates the consumer and pulls again.
 */
class PullLoop {
  readonly name: string;
  readonly group: string;
  /** Created with `startAt: 'new'`: deleted with its last subscriber, or by the server when idle. */
  readonly live: boolean;
  /**
   * Live consumers only: the stream sequence this subscriber has read up to (at first, the end of
   * the stream when the consumer was made). A live consumer the server deleted under a running
   * subscriber is made again from the next sequence, so nothing published meanwhile is skipped.
   */
  private readUpTo: number | undefined;
  private consumer: Consumer | undefined;
  private batch: ConsumerMessages | undefined;
  private advisories: NatsSubscription | undefined;
  private active = 0;
  private readonly running = new Set<Promise<void>>();
  private stopping = false;
  private wake: (() => void) | undefined;
  private done: Promise<void> = Promise.resolve();

  constructor(
    private readonly bus: LoopContext,
    private readonly layout: StreamLayout,
    readonly stream: string,
    readonly filter: string,
    private readonly options: ResolvedConsumeOptions,
    private readonly handler: Handler<Subject>,
  ) {
    this.name = consumerName(options.group, filter);
    this.group = options.group;
    this.live = options.startAt === 'new';
  }

  /**
   * Durable, explicit ack; create or update. From the first stored message, or for a live consumer
   * from the end of the stream (where this subscriber stopped, when it is made again), with an
   * inactive threshold so the server deletes it once no process pulls from it.
   */
  async ensureConsumer(): Promise<void> {
    const config: Partial<ConsumerConfig> = {
      durable_name: this.name,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(this.options.ackWaitMs),
      max_deliver: this.options.maxDeliver,
      filter_subject: this.bus.wire(this.filter),
    };
    if (this.live) {
      config.inactive_threshold = nanos(this.bus.settings.liveConsumerInactiveMs);
      if (this.readUpTo === undefined) config.deliver_policy = DeliverPolicy.New;
      else {
        config.deliver_policy = DeliverPolicy.StartSequence;
        config.opt_start_seq = this.readUpTo + 1;
      }
    }
    try {
      const info = await this.bus.jsm.consumers.add(this.stream, config);
      if (this.live) this.readUpTo ??= info.delivered.stream_seq;
    } catch (error) {
      if (isApiError(error, JS_CONSUMER_NOT_UNIQUE_ON_WORKQUEUE)) {
        throw new BusError('CONSUMER_CONFLICT', `work-queue stream ${this.stream} already has a consumer overlapping "${this.filter}"`, { cause: error });
      }
      if (!(error instanceof JetStreamApiError)) throw new BusError('BROKER_ERROR', `cannot create consumer ${this.name}: ${errorMessage(error)}`, { cause: error });
      // Exists with another config (newer servers refuse a create then; a start policy never changes): update it.
      const info = await this.bus.jsm.consumers.update(this.stream, this.name, {
        ack_wait: config.ack_wait,
        max_deliver: config.max_deliver,
      });
      if (this.live) this.readUpTo ??= info.delivered.stream_seq;
    }
    this.consumer = undefined;
  }

  start(): void {
    const advisory = `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${this.stream}.${this.name}`;
    this.advisories = this.bus.nc.subscribe(advisory, {
      callback: (error, msg) => {
        if (error) return;
        void this.onMaxDeliveries(msg.json<MaxDeliveriesAdvisory>()).catch((e: unknown) =>
          this.bus.settings.onError(e, `dead-lettering after max deliveries on ${this.name}`),
        );
      },
    });
    this.done = this.run();
  }

  async drain(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    // close() settles only once the loop has read the batch to its end, so do not await it here.
    void this.batch?.close();
    await this.done;
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
    if (this.advisories && !this.advisories.isClosed()) this.advisories.unsubscribe();
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      try {
        await this.freeSlot();
        if (this.stopping) break;
        this.consumer ??= await this.bus.js.consumers.get(this.stream, this.name);
        const batch = await this.consumer.fetch({ max_messages: this.options.concurrency - this.active, expires: this.bus.settings.pullExpiresMs });
        this.batch = batch;
        if (this.stopping) void batch.close();
        for await (const msg of batch) {
          // Pulled while stopping: hand it straight back for another subscriber.
          if (this.stopping) msg.nak();
          else this.dispatch(msg);
        }
        this.batch = undefined;
        failures = 0;
      } catch (error) {
        this.batch = undefined;
        this.consumer = undefined;
        if (this.stopping || this.bus.nc.isClosed()) break;
        failures++;
        this.bus.settings.onError(error, `consumer ${this.stream}/${this.name} failed (${failures} in a row), recreating it`);
        await this.pause(Math.min(100 * 2 ** (failures - 1), 5_000));
        try {
          await this.ensureConsumer();
        } catch (ensureError) {
          this.bus.settings.onError(ensureError, `recreating consumer ${this.stream}/${this.name}`);
        }
      }
    }
  }

  /** Resolves when a handler slot is free (or on stop). */
  private async freeSlot(): Promise<void> {
    while (this.active >= this.options.concurrency && !this.stopping) await new Promise<void>((resolve) => (this.wake = resolve));
  }

  private async pause(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      timer.unref();
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private dispatch(msg: JsMsg): void {
    this.active++;
    const run = this.handle(msg).finally(() => {
      this.active--;
      const wake = this.wake;
      this.wake = undefined;
      wake?.();
    });
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
  }

  private async handle(msg: JsMsg): Promise<void> {
    if (this.live && msg.seq > (this.readUpTo ?? 0)) this.readUpTo = msg.seq;
    const subject = this.bus.unwire(msg.subject) as Subject;
    const text = msg.string();
    const count = msg.info.deliveryCount;
    const { maxDeliver } = this.options;
    const deadLetter = async (reason: string) => {
      try {
        await this.bus.writeDeadLetter({ subject, group: this.options.group, payload: text, reason, deliveryCount: count }, `${this.stream}:${this.name}:${msg.seq}`);
      } catch (error) {
        // Without a record the message must not vanish: leave it to redelivery / the max-deliveries advisory.
        this.bus.settings.onError(error, `dead-lettering ${subject}#${msg.seq} failed; leaving it unacknowledged`);
        return;
      }
      // No reason on the wire: servers before 2.11 ignore a `+TERM <reason>` entirely.
      msg.term();
    };

    const decoded = decodePayload(subject, text);
    if (!decoded.ok) {
      await deadLetter(decoded.reason);
      return;
    }
    let settled = false;
    const settle = () => {
      const first = !settled;
      settled = true;
      return first;
    };
    const delivery: Delivery<Subject> = {
      subject,
      data: decoded.data,
      headers: fromNatsHeaders(msg.headers),
      deliveryCount: count,
      ack: async () => {
        if (settle()) msg.ack();
      },
      nak: async (delayMs?: number) => {
        if (!settle()) return;
        if (count >= maxDeliver) await deadLetter(`nak on the last of ${maxDeliver} deliveries`);
        else msg.nak(delayMs);
      },
      term: async (reason: string) => {
        if (settle()) await deadLetter(reason);
      },
      working: async () => {
        if (!settled) msg.working();
      },
    };
    try {
      await this.handler(delivery);
      if (settle()) msg.ack();
    } catch (error) {
      if (!settle()) return;
      if (count >= maxDeliver) await deadLetter(`handler failed on the last of ${maxDeliver} deliveries: ${errorMessage(error)}`);
      else msg.nak(this.bus.settings.errorNakDelayMs);
    }
  }

  /** The server gave up after an ack timeout on the last delivery: record it and clear the work queue. */
  private async onMaxDeliveries(advisory: MaxDeliveriesAdvisory): Promise<void> {
    const { jsm } = this.bus;
    const stored = await jsm.streams.getMessage(this.stream, { seq: advisory.stream_seq }).catch((error: unknown) => {
      if (isApiError(error, JS_NO_MESSAGE_FOUND)) return null;
      throw error;
    });
    if (!stored) return;
    await this.bus.writeDeadLetter(
      {
        subject: this.bus.unwire(stored.subject),
        group: this.options.group,
        payload: stored.string(),
        reason: `ack wait expired on the last of ${advisory.deliveries} deliveries`,
        deliveryCount: advisory.deliveries,
      },
      `${this.stream}:${this.name}:${advisory.stream_seq}`,
    );
    if (this.layout.retention === 'workqueue') {
      await jsm.streams.deleteMessage(this.stream, advisory.stream_seq, false).catch((error: unknown) => {
        if (!isApiError(error, JS_NO_MESSAGE_FOUND)) throw error;
      });
    }
  }
}

function isApiError(error: unknown, code: number): boolean {
  return error instanceof JetStreamApiError && error.code === code;
}

function toNatsHeaders(source: Headers | undefined): MsgHdrs | undefined {
  if (!source || Object.keys(source).length === 0) return undefined;
  const h = natsHeaders();
  for (const [k, v] of Object.entries(source)) h.set(k, v);
  return h;
}

function fromNatsHeaders(source: MsgHdrs | undefined): Headers {
  const out: Headers = {};
  if (!source) return out;
  for (const k of source.keys()) out[k] = source.get(k);
  return out;
}
