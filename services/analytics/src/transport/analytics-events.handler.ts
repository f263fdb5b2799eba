import type { Bus, Delivery, Subscription } from '@weft/bus';
import { SUBJECTS } from '@weft/contracts';
import { AnalyticsError } from '../domain/analytics.errors';
import type { RecordAnalyticsEventUseCase } from '../domain/record-event.usecase';

export interface AnalyticsLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: AnalyticsLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

export interface AnalyticsConsumerOptions {
  /** Durable group, its own (the journal has another): every event reaches both. @default analytics */
  group?: string;
  /** @default 32 */
  concurrency?: number;
  /** @default 30000 */
  ackWaitMs?: number;
  /** @default 10 */
  maxDeliver?: number;
}

const EVENTS = `${SUBJECTS.eventPrefix}>` as const;

/**
 * Consumes `weft.event.>` into the aggregates: acks once applied (or known), terms
 * an event that can never be counted, throws on a store failure so the bus redelivers.
 */
export class AnalyticsEventsHandler {
  private subscription: Subscription | undefined;
  private stopped = false;

  constructor(
    private readonly bus: Bus,
    private readonly record: RecordAnalyticsEventUseCase,
    private readonly options: AnalyticsConsumerOptions = {},
    private readonly log: AnalyticsLogger = silentLogger,
  ) {}

  async start(): Promise<void> {
    this.stopped = false;
    this.subscription = await this.bus.consume(
      EVENTS,
      {
        group: this.options.group ?? 'analytics',
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

  async health(): Promise<{ ok: boolean; detail: string }> {
    if (this.subscription === undefined) return { ok: false, detail: this.stopped ? 'analytics consumer stopped' : 'analytics consumer not bound yet' };
    return { ok: true, detail: `analytics consumer bound to ${EVENTS} (group ${this.options.group ?? 'analytics'})` };
  }

  async handle(delivery: Delivery<typeof EVENTS>): Promise<void> {
    const event = delivery.data;
    try {
      const outcome = await this.record.execute(event);
      if (outcome === 'duplicate') this.log.info('event already counted', { eventId: event.eventId, deliveryCount: delivery.deliveryCount });
      await delivery.ack();
    } catch (error) {
      if (isTerminal(error)) {
        this.log.warn('event cannot be counted; dead-lettering it', { eventId: event.eventId, error: messageOf(error) });
        await delivery.term(`analytics: ${messageOf(error)}`);
        return;
      }
      this.log.error('counting failed; the event will be redelivered', { eventId: event.eventId, error: messageOf(error) });
      throw error;
    }
  }
}

/** Never worth retrying: an event that cannot be counted, or data PostgreSQL refuses (SQLSTATE class 22). */
export function isTerminal(error: unknown): boolean {
  if (error instanceof AnalyticsError) return error.code === 'INVALID_EVENT';
  for (let current: unknown = error, depth = 0; current !== null && typeof current === 'object' && depth < 4; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code.startsWith('22');
    current = (current as { driverError?: unknown; cause?: unknown }).driverError ?? (current as { cause?: unknown }).cause;
  }
  return false;
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));
