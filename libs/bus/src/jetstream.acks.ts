import { type JsMsg } from '@nats-io/jetstream';

/** Held acks beyond this many go at once (a bound on what a killed process leaves to redelivery). */
const MAX_HELD_ACKS = 256;

/**
 * Acks held back to ride the connection's next write (issue 15: every socket write costs the
 * process ~0.5 ms of CPU on a busy machine). An ack is fire-and-forget: nats.js writes its outbound
 * buffer once per microtask turn, so an ack issued when the handler resolves went out in a write of
 * its own. Here it waits until this connection publishes (the scheduler's next dispatch, the
 * executor's next result: `flush()` right after the publish is queued, so both leave in one write),
 * pulls, or at most `maxDelayMs`, whichever comes first.
 *
 * An ack is only ever later than before, never earlier: whatever the handler made durable before it
 * resolved still precedes the ack. A process killed while holding acks leaves those messages to
 * redelivery after their ack wait, as a kill between a handler and its ack always did (at least
 * once); a drain sends them before the connection closes.
 */
export class HeldAcks {
  private held: JsMsg[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly maxDelayMs: number) {}

  /** Acks `msg` with the connection's next write, at most `maxDelayMs` from now. */
  ack(msg: JsMsg): void {
    if (this.maxDelayMs <= 0) {
      sendAck(msg);
      return;
    }
    this.held.push(msg);
    if (this.held.length >= MAX_HELD_ACKS) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.maxDelayMs);
  }

  /** Sends every held ack now (into nats.js's outbound buffer: with anything queued this tick, one write). */
  flush(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.held.length === 0) return;
    const held = this.held;
    this.held = [];
    for (const msg of held) sendAck(msg);
  }

  /** Acks waiting (specs). */
  get size(): number {
    return this.held.length;
  }
}

/** A connection closed under a held ack: the broker redelivers the message after its ack wait, as for any lost ack. */
function sendAck(msg: JsMsg): void {
  try {
    msg.ack();
  } catch {
    // nothing to do: see above
  }
}
