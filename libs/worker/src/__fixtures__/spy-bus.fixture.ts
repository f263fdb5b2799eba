import type { Bus, ConsumeOptions, ConsumerStats, DeadLetter, Delivery, Handler, Headers, PublishOptions, Subscription } from '@weft/bus';
import { type MessageOf, type Subject, SUBJECTS } from '@weft/contracts';

export type Settlement = { op: 'ack' | 'nak' | 'term' | 'working'; subject: string; token?: string; deliveryCount: number };

/**
 * A real bus seen through a one-way mirror: records how deliveries are settled and can make
 * publishes fail, so tests can see acks and naks without reaching into the bus.
 */
export class SpyBus implements Bus {
  readonly settlements: Settlement[] = [];
  /** Subjects of every delivery handed to a consumer, in order. */
  readonly deliveries: string[] = [];
  /** Every publish the bus accepted, in order. */
  readonly published: { subject: string; payload: unknown }[] = [];
  /** Every publish tried, accepted or failed, with its message id. */
  readonly tried: { subject: string; payload: unknown; msgId?: string; failed: boolean }[] = [];
  /** Subjects whose next publishes throw: how many remain, and what they throw. */
  private readonly failing = new Map<string, { remaining: number; error: () => Error }>();

  constructor(private readonly inner: Bus) {}

  /** The next `count` publishes on `subject` throw (`Infinity`: until `stopFailing`), by default a plain Error. */
  failNextPublishes(subject: Subject, count = 1, error: () => Error = () => new Error(`injected publish failure on ${subject}`)): void {
    this.failing.set(subject, { remaining: count, error });
  }

  stopFailing(subject: Subject): void {
    this.failing.delete(subject);
  }

  /** How the dispatch carrying `token` was settled by workers. */
  settled(op: Settlement['op'], token: string): Settlement[] {
    return this.settlements.filter((s) => s.op === op && s.token === token && s.subject.startsWith(SUBJECTS.dispatchPrefix));
  }

  async publish<S extends Subject>(subject: S, payload: MessageOf<S>, options?: PublishOptions): Promise<void> {
    const failing = this.failing.get(subject);
    const tried = { subject, payload, msgId: options?.msgId, failed: false };
    this.tried.push(tried);
    if (failing && failing.remaining > 0) {
      failing.remaining -= 1;
      tried.failed = true;
      throw failing.error();
    }
    await this.inner.publish(subject, payload, options);
    this.published.push({ subject, payload });
  }

  consume<S extends Subject>(subject: S, options: ConsumeOptions, handler: Handler<S>): Promise<Subscription> {
    return this.inner.consume(subject, options, (delivery) => handler(this.watch(delivery)));
  }

  broadcast<S extends Subject>(subject: S, payload: MessageOf<S>, options?: PublishOptions): Promise<void> {
    return this.inner.broadcast(subject, payload, options);
  }

  listen<S extends Subject>(subject: S, handler: (message: MessageOf<S>, headers: Headers) => void | Promise<void>): Promise<Subscription> {
    return this.inner.listen(subject, handler);
  }

  deadLetters(): Promise<DeadLetter[]> {
    return this.inner.deadLetters();
  }

  consumerStats(): Promise<ConsumerStats[]> {
    return this.inner.consumerStats();
  }

  health(): Promise<{ ok: boolean; detail: string }> {
    return this.inner.health();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  /** Results published so far for `token` (synchronously visible, unlike a consumer's view). */
  resultsPublished(token: string): unknown[] {
    return this.published.filter((p) => p.subject === SUBJECTS.stepResult && (p.payload as { token?: unknown }).token === token).map((p) => p.payload);
  }

  /** Result publishes tried for `token`, failed ones included. */
  resultsTried(token: string): { msgId?: string; failed: boolean }[] {
    return this.tried
      .filter((p) => p.subject === SUBJECTS.stepResult && (p.payload as { token?: unknown }).token === token)
      .map(({ msgId, failed }) => ({ msgId, failed }));
  }

  dispatchSettlements(token: string): Settlement[] {
    return this.settlements.filter((s) => s.token === token && s.subject.startsWith(SUBJECTS.dispatchPrefix));
  }

  private watch<S extends Subject>(delivery: Delivery<S>): Delivery<S> {
    this.deliveries.push(delivery.subject);
    const data = delivery.data as { token?: unknown };
    const record = (op: Settlement['op']): void => {
      this.settlements.push({ op, subject: delivery.subject, token: typeof data.token === 'string' ? data.token : undefined, deliveryCount: delivery.deliveryCount });
    };
    return {
      ...delivery,
      ack: () => (record('ack'), delivery.ack()),
      nak: (delayMs?: number) => (record('nak'), delivery.nak(delayMs)),
      term: (reason: string) => (record('term'), delivery.term(reason)),
      working: () => (record('working'), delivery.working()),
    };
  }
}
