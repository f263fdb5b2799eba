import { JetStreamApiError } from '@nats-io/jetstream';
import { headers as natsHeaders, InvalidArgumentError, type Msg, type MsgHdrs, type NatsConnection, NoRespondersError, RequestError, TimeoutError } from '@nats-io/transport-node';
import { PubAcks } from './jetstream.pub-acks';

type Callback = (error: Error | null, msg: Msg) => void;

/** What PubAcks uses of a connection: subscribe, publish, closed() and status(), driven by the spec. */
class FakeConnection {
  subscribed: string[] = [];
  published: { subject: string; data: string; reply: string; headers?: MsgHdrs }[] = [];
  refuse: Error | undefined;
  private callback: Callback | undefined;
  private close!: () => void;
  private readonly closedPromise = new Promise<void>((resolve) => (this.close = resolve));
  private readonly statuses: { type: string }[] = [];
  private wake: (() => void) | undefined;

  subscribe(subject: string, opts: { callback: Callback }): void {
    this.subscribed.push(subject);
    this.callback = opts.callback;
  }

  publish(subject: string, data: string, opts: { headers?: MsgHdrs; reply: string }): void {
    if (this.refuse) throw this.refuse;
    this.published.push({ subject, data, reply: opts.reply, headers: opts.headers });
  }

  closed(): Promise<void> {
    return this.closedPromise;
  }

  async *status(): AsyncIterable<{ type: string }> {
    for (;;) {
      while (this.statuses.length > 0) yield this.statuses.shift()!;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** The server's answer on a publish's reply subject. */
  reply(index: number, body: string, status?: { code: number; description: string }): void {
    const h = status ? natsHeaders(status.code, status.description) : undefined;
    const data = new TextEncoder().encode(body);
    const msg = { subject: this.published[index].reply, data, headers: h, json: () => JSON.parse(body) as unknown } as unknown as Msg;
    this.callback!(null, msg);
  }

  emit(type: string): void {
    this.statuses.push({ type });
    this.wake?.();
  }

  shut(): void {
    this.close();
  }
}

const ticks = async (n = 3): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

const connections: FakeConnection[] = [];

function setup(timeoutMs?: number): { nc: FakeConnection; acks: PubAcks } {
  const nc = new FakeConnection();
  connections.push(nc);
  return { nc, acks: new PubAcks(nc as unknown as NatsConnection, timeoutMs) };
}

describe('PubAcks', () => {
  afterEach(async () => {
    jest.useRealTimers();
    // Closing rejects whatever a test left waiting and stops its sweep timer.
    for (const nc of connections.splice(0)) nc.shut();
    await ticks();
  });

  it('subscribes once to <inbox>.* and publishes with a reply under it, counter by counter, headers as given', () => {
    const { nc, acks } = setup();
    const h = natsHeaders();
    h.set('Nats-Msg-Id', 'm1');
    void acks.publish('weft.step.result', 'a', h).catch(() => undefined);
    void acks.publish('weft.step.result', 'b').catch(() => undefined);
    expect(nc.subscribed).toHaveLength(1);
    const inbox = nc.subscribed[0].slice(0, -1);
    expect(nc.subscribed[0]).toMatch(/^_INBOX\.[A-Za-z0-9]+\.\*$/);
    expect(nc.published.map((p) => [p.subject, p.data, p.reply])).toEqual([
      ['weft.step.result', 'a', `${inbox}1`],
      ['weft.step.result', 'b', `${inbox}2`],
    ]);
    expect(nc.published[0].headers?.get('Nats-Msg-Id')).toBe('m1');
    expect(acks.size).toBe(2);
  });

  it('resolves each publish with its own PubAck, a duplicate too, and forgets it', async () => {
    const { nc, acks } = setup();
    const settled: string[] = [];
    const a = acks.publish('s.a', 'a').then(() => settled.push('a'));
    const b = acks.publish('s.b', 'b').then(() => settled.push('b'));
    nc.reply(1, JSON.stringify({ stream: 'S', seq: 2 }));
    await b;
    expect(settled).toEqual(['b']);
    expect(acks.size).toBe(1);
    nc.reply(0, JSON.stringify({ stream: 'S', seq: 1, duplicate: true }));
    await a;
    expect(acks.size).toBe(0);
    // A second PubAck for the same reply (nothing waits for it any more) is ignored.
    expect(() => nc.reply(0, JSON.stringify({ stream: 'S', seq: 1 }))).not.toThrow();
  });

  it("rejects with the server's error when the PubAck carries one", async () => {
    const { nc, acks } = setup();
    const p = acks.publish('s', 'x');
    nc.reply(0, JSON.stringify({ error: { code: 400, err_code: 10060, description: 'expected stream does not match' } }));
    const error = await p.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JetStreamApiError);
    expect((error as Error).message).toBe('expected stream does not match');
    expect(acks.size).toBe(0);
  });

  it('rejects with NoRespondersError on a 503 status: no stream stores the subject', async () => {
    const { nc, acks } = setup();
    const p = acks.publish('nostream.here', 'x');
    nc.reply(0, '', { code: 503, description: 'No Responders' });
    await expect(p).rejects.toBeInstanceOf(NoRespondersError);
    await expect(p).rejects.toThrow(/nostream\.here/);
    expect(acks.size).toBe(0);
  });

  it('rejects a PubAck without a stream as an invalid response', async () => {
    const { nc, acks } = setup();
    const p = acks.publish('s', 'x');
    nc.reply(0, JSON.stringify({ seq: 1 }));
    await expect(p).rejects.toThrow('invalid ack response');
  });

  it('rejects at once, leaving nothing waiting, when the connection refuses the message (max_payload)', async () => {
    const { nc, acks } = setup();
    nc.refuse = InvalidArgumentError.format('payload', 'max_payload size exceeded');
    await expect(acks.publish('s', 'big')).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(acks.size).toBe(0);
  });

  it('rejects publishes older than the timeout with ONE sweep timer, and stops it once nothing waits', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'queueMicrotask', 'nextTick'] });
    const { nc, acks } = setup(1_000);
    const old = acks.publish('s', 'old');
    jest.advanceTimersByTime(600);
    const young = acks.publish('s', 'young');
    expect(jest.getTimerCount()).toBe(1);
    jest.advanceTimersByTime(400); // old is 1000 ms old, young 400 ms
    await expect(old).rejects.toBeInstanceOf(TimeoutError);
    expect(acks.size).toBe(1);
    nc.reply(1, JSON.stringify({ stream: 'S', seq: 1 }));
    await young;
    jest.advanceTimersByTime(200);
    expect(acks.size).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
    // A PubAck that comes after its publish timed out changes nothing.
    expect(() => nc.reply(0, JSON.stringify({ stream: 'S', seq: 2 }))).not.toThrow();
  });

  it('rejects every waiting publish at once when the connection reports a disconnect, and goes on after it', async () => {
    const { nc, acks } = setup();
    const waiting = [acks.publish('s', 'a'), acks.publish('s', 'b')];
    nc.emit('disconnect');
    await ticks();
    for (const p of waiting) await expect(p).rejects.toBeInstanceOf(RequestError);
    expect(acks.size).toBe(0);
    nc.emit('reconnect');
    await ticks();
    const next = acks.publish('s', 'c');
    nc.reply(2, JSON.stringify({ stream: 'S', seq: 3 }));
    await expect(next).resolves.toBeUndefined();
  });

  it('refuses a publish at once while the connection is down (nats.js would drop it at its next dial), and publishes again after the reconnect', async () => {
    const { nc, acks } = setup();
    nc.emit('disconnect');
    await ticks();
    await expect(acks.publish('s', 'a')).rejects.toThrow('connection disconnected: not sent (reconnecting)');
    expect(nc.published).toEqual([]);
    expect(acks.size).toBe(0);
    nc.emit('reconnecting');
    nc.emit('reconnect');
    await ticks();
    const next = acks.publish('s', 'b');
    nc.reply(0, JSON.stringify({ stream: 'S', seq: 1 }));
    await expect(next).resolves.toBeUndefined();
  });

  it('rejects what waits when the disconnect is seen and when a reconnect attempt starts (its dial dropped nats.js\'s buffer), not after the timeout', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'queueMicrotask', 'nextTick'] });
    const { nc, acks } = setup();
    nc.emit('disconnect');
    // Published before the status reached PubAcks: it waits, as nats.js buffers it.
    const lagging = expect(acks.publish('s', 'a')).rejects.toBeInstanceOf(RequestError);
    await ticks();
    await lagging;
    // One more in the lag of a reconnect attempt's status.
    nc.emit('reconnect');
    await ticks();
    const buffered = expect(acks.publish('s', 'b')).rejects.toThrow('not sent (reconnecting)');
    expect(acks.size).toBe(1);
    nc.emit('reconnecting');
    await ticks();
    await buffered;
    expect(acks.size).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('rejects every waiting publish when the connection closes, and stops its sweep timer', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'queueMicrotask', 'nextTick'] });
    const { nc, acks } = setup();
    const waiting = acks.publish('s', 'a');
    expect(jest.getTimerCount()).toBe(1);
    nc.shut();
    await expect(waiting).rejects.toThrow('connection closed');
    expect(acks.size).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
  });
});
