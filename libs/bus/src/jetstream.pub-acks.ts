import { JetStreamApiError } from '@nats-io/jetstream';
import { createInbox, type Msg, type MsgHdrs, type NatsConnection, NoRespondersError, type Payload, RequestError, TimeoutError } from '@nats-io/transport-node';

/** How long a publish waits for its PubAck: `js.publish`'s own default, which the bus used before. */
export const PUBLISH_TIMEOUT_MS = 5_000;

/** A PubAck as the server sends it: where the message was stored, or why not. */
interface PubAck {
  stream?: string;
  seq?: number;
  duplicate?: boolean;
  error?: { code: number; err_code: number; description: string };
}

interface Pending {
  resolve: () => void;
  reject: (error: Error) => void;
  subject: string;
  /** Date.now() when published; the map is in this order. */
  at: number;
}

/**
 * JetStream publishes with their PubAcks matched here, not by nats.js's request machinery (issue 15).
 * `js.publish` is a core request: per publish a `setTimeout`, a `Promise.race`, several promises,
 * and on every successful PubAck a `RequestError("cancelled")` built with its stack, even with
 * `noAsyncTraces` (nats-core request.js `cancel()`): ~10% of a busy scheduler's JS CPU. nats.js has
 * no cheaper supported way to the same end (`noMux` makes a subscription per request; batch
 * publishing is a different, server 2.12 feature), so:
 *
 * - one wildcard subscription `<inbox>.*`, made once per connection;
 * - a publish is `nc.publish(subject, data, { headers, reply: <inbox>.<counter> })`, so it rides the
 *   same outbound buffer (and CoalescedWrites' socket write) as before, and waits in a Map by counter;
 * - its PubAck settles it: `error` rejects with the server's JetStreamApiError, a 503 status (no
 *   stream listens on the subject) with NoRespondersError, anything else (a duplicate too) resolves;
 * - ONE sweep timer, running only while something waits, rejects publishes older than the timeout;
 * - a disconnect or the connection's close rejects everything waiting at once: a PubAck for the old
 *   connection can never arrive (nats.js would leave such requests to their timeout);
 * - while the connection is down a publish is refused at once, and each reconnect attempt rejects
 *   what still waits: nats.js discards its outbound buffer at every dial (`prepare()` ->
 *   `resetOutbound()`), so a message published while down is never sent and its PubAck never
 *   comes. Before, such a publish waited out the 5 s timeout even once the connection was back,
 *   and a caller's retry (an executor's held result, an outbox row) waited with it.
 *
 * The headers (Nats-Msg-Id for dedup, trace context) are the caller's: this only adds the reply.
 */
export class PubAcks {
  private readonly pending = new Map<string, Pending>();
  private readonly inbox = `${createInbox()}.`;
  private counter = 0;
  private sweeper: NodeJS.Timeout | undefined;
  /** Between a disconnect and the reconnect (as the status events say). */
  private down = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs = PUBLISH_TIMEOUT_MS,
  ) {
    nc.subscribe(`${this.inbox}*`, { callback: (error, msg) => this.settle(error, msg) });
    void nc.closed().then(() => this.rejectAll(new RequestError('connection closed')));
    void this.watchDisconnects();
  }

  /**
   * Publishes `data` with a reply subject of ours; settles with its PubAck. What nc.publish throws
   * (max_payload exceeded, a closed connection) rejects at once, with nothing left waiting.
   */
  publish(subject: string, data: Payload, headers?: MsgHdrs): Promise<void> {
    // nats.js would buffer it and drop the buffer at its next dial: refused now, the caller retries.
    if (this.down) return Promise.reject(new RequestError('connection disconnected: not sent (reconnecting)'));
    const token = (++this.counter).toString(36);
    try {
      this.nc.publish(subject, data, { headers, reply: this.inbox + token });
    } catch (error) {
      return Promise.reject(error as Error);
    }
    return new Promise<void>((resolve, reject) => {
      this.pending.set(token, { resolve, reject, subject, at: Date.now() });
      this.sweeper ??= setInterval(() => this.sweep(), Math.max(1, Math.ceil(this.timeoutMs / 5)));
    });
  }

  /** Publishes waiting for their PubAck (specs, diagnostics). */
  get size(): number {
    return this.pending.size;
  }

  /** Rejects every waiting publish with `error` (disconnect, close). */
  rejectAll(error: Error): void {
    const waiting = [...this.pending.values()];
    this.pending.clear();
    this.stopSweeping();
    for (const p of waiting) p.reject(error);
  }

  private settle(error: Error | null, msg: Msg): void {
    // An error on the subscription itself (a permissions violation): no PubAck can come back.
    if (error) return this.rejectAll(error);
    const token = msg.subject.slice(this.inbox.length);
    const p = this.pending.get(token);
    if (!p) return; // Late: swept or rejected already.
    this.pending.delete(token);
    if (msg.data.length === 0) {
      // A status, not a PubAck: 503 is "no responders", no stream stores this subject.
      const code = msg.headers?.code ?? 0;
      return p.reject(code === 503 ? new NoRespondersError(p.subject) : new Error(`status ${code} ${msg.headers?.description ?? ''}`.trim()));
    }
    let ack: PubAck;
    try {
      ack = msg.json<PubAck>();
    } catch (e) {
      return p.reject(e as Error);
    }
    if (ack.error) return p.reject(new JetStreamApiError(ack.error));
    if (!ack.stream) return p.reject(new Error('invalid ack response'));
    p.resolve();
  }

  /** Rejects publishes older than the timeout; stops itself once nothing waits. */
  private sweep(): void {
    const oldest = Date.now() - this.timeoutMs;
    for (const [token, p] of this.pending) {
      if (p.at > oldest) break; // In publish order: the rest are younger.
      this.pending.delete(token);
      p.reject(new TimeoutError());
    }
    if (this.pending.size === 0) this.stopSweeping();
  }

  private stopSweeping(): void {
    if (this.sweeper === undefined) return;
    clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  private async watchDisconnects(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type === 'disconnect') {
        this.down = true;
        this.rejectAll(new RequestError('connection disconnected'));
      } else if (status.type === 'reconnecting') {
        // The dial that announced itself has dropped nats.js's buffer: anything still waiting was in it.
        this.rejectAll(new RequestError('connection disconnected: not sent (reconnecting)'));
      } else if (status.type === 'reconnect') {
        this.down = false;
      }
    }
  }
}
