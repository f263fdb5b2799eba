import {
  AckPolicy,
  type Consumer,
  type ConsumerConfig,
  type ConsumerMessages,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  JetStreamApiError,
  type JsMsg,
} from '@nats-io/jetstream';
import { nanos, type NatsConnection, type Subscription as NatsSubscription } from '@nats-io/transport-node';
import { type Subject } from '@weft/contracts';
import { decodePayload, errorMessage, type ResolvedConsumeOptions } from './bus.defaults';
import { BusError } from './bus.errors';
import { type DeadLetter, type Delivery, type Handler } from './bus.port';
import { type HeldAcks } from './jetstream.acks';
import { type Settings } from './jetstream.options';
import { fromNatsHeaders, isApiError, JS_CONSUMER_NOT_UNIQUE_ON_WORKQUEUE, JS_NO_MESSAGE_FOUND } from './jetstream.util';
import { consumerName, type StreamLayout } from './subject.util';

/** What a pull loop needs from its bus, without widening the bus's public surface. */
export interface LoopContext {
  js: JetStreamClient;
  jsm: JetStreamManager;
  nc: NatsConnection;
  settings: Settings;
  /** The connection's held acks: a handled message's ack rides the next write (HeldAcks). */
  acks: HeldAcks;
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
 * One subscriber of a durable pull consumer. It pulls with `fetch` for exactly the free
 * handler slots: `consume()` refills on receipt, so a slow handler would hoard messages
 * beyond `concurrency` while their ack wait runs out. Any failure (consumer deleted,
 * missed heartbeats, reconnect) recreates the consumer and pulls again.
 */
export class PullLoop {
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
    this.bus.acks.flush();
    if (this.advisories && !this.advisories.isClosed()) this.advisories.unsubscribe();
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      try {
        await this.freeSlot();
        if (this.stopping) break;
        this.consumer ??= await this.bus.js.consumers.get(this.stream, this.name);
        // The pull request carries the acks waiting.
        this.bus.acks.flush();
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
        if (settle()) this.bus.acks.ack(msg);
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
      if (settle()) this.bus.acks.ack(msg);
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
