import type { Bus, Delivery, Headers, Subscription } from '@weft/bus';
import { type LifecycleEvent, SUBJECTS } from '@weft/contracts';
import { type LaggingConsumer, recordConsumerLag } from '@weft/telemetry';
import type { WeftLogger } from './logger.factory';

/** What a service that only logs needs of a logger (a WeftLogger is one). */
export type ServiceLogger = Pick<WeftLogger, 'info' | 'warn' | 'error'>;

export const silentServiceLogger: ServiceLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

export const LIFECYCLE_EVENTS = `${SUBJECTS.eventPrefix}>` as const;

export interface LifecycleConsumerOptions {
  /** Durable group. @default the sink's name */
  group?: string;
  /** Events handled at once per replica. @default 32 */
  concurrency?: number;
  /** @default 30000 */
  ackWaitMs?: number;
  /** Deliveries before an event is dead-lettered. @default 10 */
  maxDeliver?: number;
}

export interface LifecycleSink {
  /** Who consumes: the default group, the dead-letter reason's prefix, the readiness detail. */
  name: string;
  /** How the logs say it: `journaled` / `journaling`. */
  past: string;
  gerund: string;
  /** Applies one event; `duplicate` when it was applied before. */
  apply(event: LifecycleEvent, headers: Headers): Promise<string>;
  /** Errors never worth a redelivery: the event is dead-lettered with the reason. */
  isTerminal(error: unknown): boolean;
  /** The lag gauge (`weft_<name>_lag_seconds`: now minus the `at` of the last event applied) this sink moves. */
  lag?: LaggingConsumer;
}

/**
 * Consumes `weft.event.>` into a read model (the journal, analytics). The bus already
 * dead-letters payloads that break the contract; here an event the sink can never apply
 * is termed (dead-lettered with the reason) and any other failure is thrown, so the bus
 * redelivers it later. Acked only after the sink applied it.
 */
export class LifecycleEventsHandler {
  private subscription: Subscription | undefined;
  private stopped = false;

  constructor(
    private readonly bus: Bus,
    private readonly sink: LifecycleSink,
    private readonly options: LifecycleConsumerOptions = {},
    private readonly log: ServiceLogger = silentServiceLogger,
  ) {}

  async start(): Promise<void> {
    this.stopped = false;
    this.subscription = await this.bus.consume(
      LIFECYCLE_EVENTS,
      {
        group: this.group,
        concurrency: this.options.concurrency ?? 32,
        ...(this.options.ackWaitMs !== undefined && { ackWaitMs: this.options.ackWaitMs }),
        ...(this.options.maxDeliver !== undefined && { maxDeliver: this.options.maxDeliver }),
      },
      (delivery) => this.handle(delivery),
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const subscription = this.subscription;
    this.subscription = undefined;
    await subscription?.drain();
  }

  /** Readiness: the durable consumer is bound in this process. */
  async health(): Promise<{ ok: boolean; detail: string }> {
    const { name } = this.sink;
    if (this.subscription === undefined) return { ok: false, detail: this.stopped ? `${name} consumer stopped` : `${name} consumer not bound yet` };
    return { ok: true, detail: `${name} consumer bound to ${LIFECYCLE_EVENTS} (group ${this.group})` };
  }

  async handle(delivery: Delivery<typeof LIFECYCLE_EVENTS>): Promise<void> {
    const { name, past, gerund } = this.sink;
    const event = delivery.data;
    try {
      const outcome = await this.sink.apply(event, delivery.headers);
      if (this.sink.lag) recordConsumerLag(this.sink.lag, event.at);
      if (outcome === 'duplicate') this.log.info(`event already ${past}`, { eventId: event.eventId, deliveryCount: delivery.deliveryCount });
      await delivery.ack();
    } catch (error) {
      if (this.sink.isTerminal(error)) {
        this.log.warn(`event cannot be ${past}; dead-lettering it`, { eventId: event.eventId, error: messageOf(error) });
        await delivery.term(`${name}: ${messageOf(error)}`);
        return;
      }
      this.log.error(`${gerund} failed; the event will be redelivered`, { eventId: event.eventId, error: messageOf(error) });
      throw error;
    }
  }

  private get group(): string {
    return this.options.group ?? this.sink.name;
  }
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));
