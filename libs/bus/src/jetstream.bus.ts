import { jetstream, type JetStreamClient, type JetStreamManager, jetstreamManager, PubHeaders } from '@nats-io/jetstream';
import { connect, InvalidArgumentError, type NatsConnection, NoRespondersError, type Subscription as NatsSubscription } from '@nats-io/transport-node';
import { type MessageOf, type Subject } from '@weft/contracts';
import { withProducerSpan } from '@weft/telemetry';
import { decodePayload, encodePayload, errorMessage, resolveConsumeOptions } from './bus.defaults';
import { BusError } from './bus.errors';
import { type Bus, type ConsumeOptions, type ConsumerStats, type DeadLetter, type Handler, type Headers, type PublishOptions, type Subscription } from './bus.port';
import { instrumentHandler, instrumentListener, type Listener, sampleConsumerBacklog } from './bus.telemetry';
import { readDeadLetters, writeDeadLetter } from './jetstream.dead-letters';
import { HeldAcks } from './jetstream.acks';
import { CoalescedWrites } from './jetstream.writes';
import { PubAcks } from './jetstream.pub-acks';
import { type JetStreamBusOptions, resolveSettings, type Settings } from './jetstream.options';
import { type LoopContext, PullLoop } from './jetstream.pull-loop';
import { ensureStreams } from './jetstream.streams';
import { fromNatsHeaders, isApiError, JS_CONSUMER_NOT_FOUND, JS_STREAM_NOT_FOUND, toNatsHeaders } from './jetstream.util';
import {
  assertGroup,
  assertStartAt,
  assertSubject,
  DEAD_LETTER_STREAM,
  DEAD_LETTER_SUBJECT_PREFIX,
  MESSAGE_STREAMS,
  type StreamLayout,
  streamForFilter,
  streamForSubject,
} from './subject.util';

export { type JetStreamBusOptions } from './jetstream.options';

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
  /** Handled messages' acks, sent with this connection's next publish or pull (HeldAcks). */
  private readonly acks: HeldAcks;
  /** Publishes of one event-loop turn in at most two socket writes, with the held acks (CoalescedWrites). */
  private readonly writes: CoalescedWrites;
  /** Publishes waiting for their PubAck, matched without nats.js's request machinery (PubAcks). */
  private readonly pubAcks: PubAcks;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly settings: Settings,
  ) {
    this.acks = new HeldAcks(settings.ackDelayMs);
    this.writes = new CoalescedWrites(settings.coalescePublishes, () => this.acks.flush());
    this.pubAcks = new PubAcks(nc);
    this.context = {
      js,
      jsm,
      nc,
      settings,
      acks: this.acks,
      wire: (subject) => this.wire(subject),
      unwire: (subject) => this.unwire(subject),
      writeDeadLetter: (record, msgId) => this.writeDeadLetter(record, msgId),
    };
    void this.watchConnection();
    this.stopSampling = sampleConsumerBacklog(() => this.consumerStats());
  }

  static async connect(options: JetStreamBusOptions): Promise<JetStreamBus> {
    const settings = resolveSettings(options);
    let nc: NatsConnection;
    try {
      // Reconnects are the client's job: never give up on the server.
      // noAsyncTraces: no stack capture per request (the JetStream API's requests; publishes go
      // through PubAcks, not nats.js's requests: docs/benchmarks.md).
      nc = await connect({ servers: options.servers, name: options.name, maxReconnectAttempts: -1, noAsyncTraces: true });
    } catch (cause) {
      throw new BusError('BROKER_ERROR', `cannot connect to NATS at ${String(options.servers)}: ${errorMessage(cause)}`, { cause });
    }
    try {
      const jsm = await jetstreamManager(nc);
      const bus = new JetStreamBus(nc, jetstream(nc), jsm, settings);
      await ensureStreams({ ...bus.context, streamName: (layout) => bus.streamName(layout) });
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
        // At once, or with this turn's later publishes; the acks waiting leave in the same socket write.
        // Nats-Msg-Id: the stream de-duplicates by it, as js.publish's msgID did.
        const natsHeaders = toNatsHeaders(options.msgId !== undefined ? { ...headers, [PubHeaders.MsgIdHdr]: options.msgId } : headers);
        await this.writes.run(() => this.pubAcks.publish(this.wire(subject), data, natsHeaders));
      } catch (cause) {
        // The client refuses a message over the server's max_payload before sending it.
        const tooLarge = cause instanceof InvalidArgumentError && /max_payload/.test(cause.message);
        const why = cause instanceof NoRespondersError ? `no stream stores it (${errorMessage(cause)})` : errorMessage(cause);
        throw new BusError(tooLarge ? 'PAYLOAD_TOO_LARGE' : 'BROKER_ERROR', `publish to ${subject} failed: ${why}`, { cause });
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
        // Through the same queue as publish: a run's rows keep their order on the wire.
        await this.writes.run(async () => this.nc.publish(this.wire(subject), data, { headers: toNatsHeaders(headers) }));
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
    return readDeadLetters(this.jsm, this.streamName(DEAD_LETTER_STREAM));
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
    this.writes.flush();
    this.acks.flush();
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
    this.acks.flush();
    await writeDeadLetter(this.js, this.wire(`${DEAD_LETTER_SUBJECT_PREFIX}${record.subject}`), record, msgId);
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
}
