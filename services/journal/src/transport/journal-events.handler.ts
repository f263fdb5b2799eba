import type { Bus, Delivery, Subscription } from '@weft/bus';
import { SUBJECTS } from '@weft/contracts';
import { JournalError } from '../domain/journal.errors';
import type { RecordEventUseCase } from '../domain/record-event.usecase';

export interface JournalLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: JournalLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

export interface JournalConsumerOptions {
  /** Durable group: every journal replica shares it. @default journal */
  group?: string;
  /** Events handled at once per replica. @default 32 */
  concurrency?: number;
  /** @default 30000 */
  ackWaitMs?: number;
  /** Deliveries before an event is dead-lettered. @default 10 */
  maxDeliver?: number;
}

const EVENTS = `${SUBJECTS.eventPrefix}>` as const;

/**
 * Consumes `weft.event.>` into the journal. The bus already dead-letters payloads
 * that break the contract; here an event the journal can never record is termed
 * (dead-lettered with the reason) and a store failure is thrown, so the bus
 * redelivers it later. Acked only after the entry is committed.
 */
export class JournalEventsHandler {
  private subscription: Subscription | undefined;
  private stopped = false;

  constructor(
    private readonly bus: Bus,
    private readonly record: RecordEventUseCase,
    private readonly options: JournalConsumerOptions = {},
    private readonly log: JournalLogger = silentLogger,
  ) {}

  async start(): Promise<void> {
    this.stopped = false;
    this.subscription = await this.bus.consume(
      EVENTS,
      {
        group: this.options.group ?? 'journal',
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
    if (this.subscription === undefined) return { ok: false, detail: this.stopped ? 'journal consumer stopped' : 'journal consumer not bound yet' };
    return { ok: true, detail: `journal consumer bound to ${EVENTS} (group ${this.options.group ?? 'journal'})` };
  }

  async handle(delivery: Delivery<typeof EVENTS>): Promise<void> {
    const event = delivery.data;
    try {
      const outcome = await this.record.execute(event, delivery.headers);
      if (outcome === 'duplicate') this.log.info('event already journaled', { eventId: event.eventId, deliveryCount: delivery.deliveryCount });
      await delivery.ack();
    } catch (error) {
      if (isTerminal(error)) {
        this.log.warn('event cannot be journaled; dead-lettering it', { eventId: event.eventId, error: messageOf(error) });
        await delivery.term(`journal: ${messageOf(error)}`);
        return;
      }
      this.log.error('journaling failed; the event will be redelivered', { eventId: event.eventId, error: messageOf(error) });
      throw error;
    }
  }
}

/**
 * Never worth retrying: a malformed event, or data PostgreSQL refuses whatever
 * the moment (SQLSTATE class 22, data exception: e.g. \u0000 in jsonb). Anything
 * else (connection lost, lock timeout, schema not migrated yet) may pass later.
 */
export function isTerminal(error: unknown): boolean {
  if (error instanceof JournalError) return error.code === 'INVALID_EVENT';
  const code = sqlState(error);
  return code !== undefined && code.startsWith('22');
}

function sqlState(error: unknown): string | undefined {
  for (let current: unknown = error, depth = 0; current !== null && typeof current === 'object' && depth < 4; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
    current = (current as { driverError?: unknown; cause?: unknown }).driverError ?? (current as { cause?: unknown }).cause;
  }
  return undefined;
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));
