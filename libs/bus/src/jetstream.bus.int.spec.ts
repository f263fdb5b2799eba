import { spawn } from 'node:child_process';
import net from 'node:net';
import { join, resolve } from 'node:path';
import { AckPolicy, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, nanos, type NatsConnection } from '@nats-io/transport-node';
import { describeWhenReachable, serverReachable } from '@weft/db/testing';
import { describeBusContract, dispatch, event, result as stepResult, waitFor, within, deferred } from './testing';
import { JetStreamBus, type JetStreamBusOptions } from './jetstream.bus';
import { DISPATCH_STREAM, EVENTS_STREAM, streamForSubject } from './subject.util';

const SERVERS = process.env.NATS_URL ?? '127.0.0.1:4222';
const RUN = `bus${process.pid.toString(36)}${Date.now().toString(36)}`;
let counter = 0;

let admin: NatsConnection;
let jsm: JetStreamManager;
const opened: JetStreamBus[] = [];

async function openBus(prefix: string, extra: Partial<JetStreamBusOptions> = {}): Promise<JetStreamBus> {
  const bus = await JetStreamBus.connect({
    servers: SERVERS,
    name: `weft-bus-test-${prefix}`,
    prefix,
    pullExpiresMs: 2_000,
    errorNakDelayMs: 20,
    duplicateWindowMs: 60_000,
    onError: () => undefined,
    ...extra,
  });
  opened.push(bus);
  return bus;
}

async function deleteStreams(bus: JetStreamBus): Promise<void> {
  for (const name of bus.streamNames()) {
    await jsm.streams.delete(name).catch(() => false);
  }
}

/** A bus on a fresh prefix (`<RUN><tag><n>`) for one test, closed and its streams deleted after `use`, whatever it throws. */
async function withBus(tag: string, use: (bus: JetStreamBus, prefix: string) => Promise<void>, extra: Partial<JetStreamBusOptions> = {}): Promise<void> {
  const prefix = `${RUN}${tag}${++counter}`;
  const bus = await openBus(prefix, extra);
  try {
    await use(bus, prefix);
  } finally {
    await bus.close();
    await deleteStreams(bus);
  }
}

describeWhenReachable('JetStreamBus (NATS at ' + SERVERS + ')', [{ what: `NATS at ${SERVERS}`, up: serverReachable(SERVERS, 4222) }], () => {
  beforeAll(async () => {
    admin = await connect({ servers: SERVERS, name: 'weft-bus-test-admin' });
    jsm = await jetstreamManager(admin);
  });

  afterAll(async () => {
    await Promise.all(opened.map((b) => b.close().catch(() => undefined)));
    if (!admin) return;
    // Sweep whatever a failed test's cleanup left behind under this run's prefix.
    const leftovers: string[] = [];
    for await (const name of jsm.streams.names()) if (name.startsWith(RUN.toUpperCase())) leftovers.push(name);
    for (const name of leftovers) await jsm.streams.delete(name).catch(() => false);
    await admin.close();
  });

  describeBusContract('JetStreamBus', async () => {
    const prefix = `${RUN}t${++counter}`;
    const bus = await openBus(prefix);
    return {
      bus,
      publishRaw: async (subject, text) => {
        await jsm.jetstream().publish(`${prefix}.${subject}`, text);
      },
      cleanup: async () => {
        await bus.close();
        await deleteStreams(bus);
      },
    };
  });

  describe('JetStream specifics', () => {
    it('creates its streams idempotently: a second bus on the same prefix boots against them', async () => {
      const prefix = `${RUN}boot${++counter}`;
      const first = await openBus(prefix);
      const second = await openBus(prefix, { eventsMaxAgeMs: 3_600_000 });
      try {
        const info = await jsm.streams.info(first.streamName(DISPATCH_STREAM));
        expect(info.config.retention).toBe('workqueue');
        expect(info.config.subjects).toEqual([`${prefix}.weft.step.dispatch.>`]);
        expect(info.config.duplicate_window).toBe(60_000 * 1_000_000);
        const events = await jsm.streams.info(first.streamNames()[2]);
        expect(events.config.max_age).toBe(3_600_000 * 1_000_000);
      } finally {
        await first.close();
        await second.close();
        await deleteStreams(first);
      }
    }, 20_000);

    it('creates every stream with the replica count it is given (1: all a single server can hold)', async () => {
      await withBus('rep', async (bus, prefix) => {
        for (const name of bus.streamNames()) await expect(jsm.streams.info(name)).resolves.toMatchObject({ config: { name, num_replicas: 1 } });
        // The idempotent boot with the same count changes nothing.
        await (await openBus(prefix, { replicas: 1 })).close();
        for (const name of bus.streamNames()) expect((await jsm.streams.info(name)).config.num_replicas).toBe(1);
      }, { replicas: 1 });
    }, 20_000);

    it('refuses more than 1 replica on this standalone server with an error naming the option and WEFT_NATS_REPLICAS, creating or changing nothing', async () => {
      const prefix = `${RUN}rep${++counter}`;
      const expected = {
        code: 'INVALID_OPTIONS',
        message: expect.stringMatching(/^cannot keep 3 replicas of Weft's streams \(option replicas, WEFT_NATS_REPLICAS=3\): the NATS server \S+ is standalone/),
      };
      // New streams: refused before the first one is made.
      await expect(openBus(prefix, { replicas: 3 })).rejects.toMatchObject(expected);
      const names: string[] = [];
      for await (const name of jsm.streams.names()) if (name.startsWith(prefix.toUpperCase())) names.push(name);
      expect(names).toEqual([]);
      // Existing streams: nats-server 2.9 would accept the update and report 3 replicas it does not keep.
      const bus = await openBus(prefix);
      try {
        await expect(openBus(prefix, { replicas: 3 })).rejects.toMatchObject(expected);
        for (const name of bus.streamNames()) expect((await jsm.streams.info(name)).config.num_replicas).toBe(1);
      } finally {
        await bus.close();
        await deleteStreams(bus);
      }
    }, 20_000);

    it.each([0, 6, 1.5])('rejects replicas %p before connecting', async (replicas) => {
      await expect(JetStreamBus.connect({ servers: '127.0.0.1:1', replicas })).rejects.toMatchObject({
        code: 'INVALID_OPTIONS',
        message: expect.stringContaining('WEFT_NATS_REPLICAS) must be an integer from 1 to 5'),
      });
    });

    it('updates the durable consumer when a subscriber comes back with new options', async () => {
      await withBus('upd', async (bus, prefix) => {
        const stream = bus.streamName(DISPATCH_STREAM);
        const first = await bus.consume('weft.step.dispatch.io', { group: 'exec', ackWaitMs: 500, maxDeliver: 3 }, async () => undefined);
        await expect(jsm.consumers.info(stream, 'exec__weft_step_dispatch_io')).resolves.toMatchObject({
          config: { ack_wait: 500 * 1_000_000, max_deliver: 3, ack_policy: 'explicit', deliver_policy: 'all', filter_subject: `${prefix}.weft.step.dispatch.io` },
        });
        await first.drain();
        await bus.consume('weft.step.dispatch.io', { group: 'exec', ackWaitMs: 700, maxDeliver: 5 }, async () => undefined);
        await expect(jsm.consumers.info(stream, 'exec__weft_step_dispatch_io')).resolves.toMatchObject({ config: { ack_wait: 700 * 1_000_000, max_deliver: 5 } });
      });
    }, 20_000);

    it('keeps consuming when its consumer is deleted out from under a running subscription', async () => {
      await withBus('del', async (bus) => {
        const seen: string[] = [];
        await bus.consume('weft.step.dispatch.io', { group: 'exec' }, async (d) => void seen.push(d.data.stepId));
        await bus.publish('weft.step.dispatch.io', dispatch('before'));
        await waitFor(() => seen.includes('before'), 'first message');
        const stream = bus.streamName(DISPATCH_STREAM);
        // Its ack is on the server before the consumer goes (acks ride the connection's next write, at most
        // ackDelayMs later): a consumer deleted before it is stored hands 'before' out again, at least once.
        await waitFor(async () => (await jsm.consumers.info(stream, 'exec__weft_step_dispatch_io')).num_ack_pending === 0, "'before' acked");

        const consumers: string[] = [];
        for await (const c of jsm.consumers.list(stream)) consumers.push(c.name);
        expect(consumers).toEqual(['exec__weft_step_dispatch_io']);
        await jsm.consumers.delete(stream, consumers[0]);
        await expect(jsm.consumers.info(stream, consumers[0])).rejects.toThrow(/consumer not found/);

        await bus.publish('weft.step.dispatch.io', dispatch('after'));
        await waitFor(() => seen.includes('after'), 'message after the consumer was deleted', 15_000);
        await expect(jsm.consumers.info(stream, consumers[0])).resolves.toMatchObject({ name: consumers[0] });
        await expect(bus.health()).resolves.toMatchObject({ ok: true });
        expect(seen).toEqual(['before', 'after']);
      });
    }, 30_000);

    it('resumes from the durable consumer in a new bus after close(): nothing lost, nothing acked comes back', async () => {
      const prefix = `${RUN}resume${++counter}`;
      const first = await openBus(prefix);
      let second: JetStreamBus | undefined;
      try {
        const firstSeen: string[] = [];
        await first.consume('weft.step.dispatch.io', { group: 'exec', ackWaitMs: 500 }, async (d) => void firstSeen.push(d.data.stepId));
        await first.publish('weft.step.dispatch.io', dispatch('a'));
        await waitFor(() => firstSeen.includes('a'), 'a processed by the first bus');
        await first.close();

        second = await openBus(prefix);
        await second.publish('weft.step.dispatch.io', dispatch('b'));
        await second.publish('weft.step.dispatch.io', dispatch('c'));
        const secondSeen: string[] = [];
        const got = deferred<void>();
        await second.consume('weft.step.dispatch.io', { group: 'exec', ackWaitMs: 500 }, async (d) => {
          secondSeen.push(d.data.stepId);
          if (secondSeen.length === 2) got.resolve();
        });
        await within(got.promise, 'b and c on the second bus');
        expect(firstSeen).toEqual(['a']);
        expect(secondSeen).toEqual(['b', 'c']);
        // Acks are asynchronous on the wire: wait for the server to have them all.
        await waitFor(async () => {
          const info = await jsm.consumers.info(second!.streamName(DISPATCH_STREAM), 'exec__weft_step_dispatch_io');
          return info.num_pending + info.num_ack_pending === 0 && info.ack_floor.stream_seq === 3;
        }, 'every message acknowledged');
        expect((await jsm.streams.info(second.streamName(DISPATCH_STREAM))).state.messages).toBe(0);
      } finally {
        await second?.close();
        await deleteStreams(first);
      }
    }, 30_000);

    it("makes a 'new' group a durable with deliver_policy new and an inactive threshold, and deletes it on drain", async () => {
      await withBus('live', async (bus) => {
        const stream = bus.streamName(EVENTS_STREAM);
        const sub = await bus.consume('weft.event.>', { group: 'api', startAt: 'new' }, async () => undefined);
        await expect(jsm.consumers.info(stream, 'api__weft_event_ALL')).resolves.toMatchObject({
          config: { durable_name: 'api__weft_event_ALL', deliver_policy: 'new', inactive_threshold: 45_000 * 1_000_000, ack_policy: 'explicit' },
        });
        await sub.drain();
        await expect(jsm.consumers.info(stream, 'api__weft_event_ALL')).rejects.toThrow(/consumer not found/);
        // So does close(), for the subscriptions it drains.
        await bus.consume('weft.event.>', { group: 'api', startAt: 'new' }, async () => undefined);
        await bus.close();
        await expect(jsm.consumers.info(stream, 'api__weft_event_ALL')).rejects.toThrow(/consumer not found/);
      }, { liveConsumerInactiveMs: 45_000 });
    }, 20_000);

    it("lets the broker delete a 'new' group's consumer once its process died", async () => {
      const prefix = `${RUN}dead${++counter}`;
      const bus = await openBus(prefix);
      const script = join(__dirname, 'testing', 'live-consumer.script.ts');
      const child = spawn(process.execPath, ['-r', '@swc-node/register', script, SERVERS, prefix, 'api', '1000'], {
        cwd: resolve(__dirname, '../../..'),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      try {
        let output = '';
        const ready = new Promise<void>((resolveReady, reject) => {
          child.stdout.on('data', (chunk: Buffer) => {
            output += chunk.toString();
            if (output.includes('ready')) resolveReady();
          });
          child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
          child.on('exit', (code) => reject(new Error(`the consumer process exited (${code}) before it was ready:\n${output}`)));
        });
        await within(ready, 'the consumer process to bind its consumer', 20_000);
        const stream = bus.streamName(EVENTS_STREAM);
        await expect(jsm.consumers.info(stream, 'api__weft_event_ALL')).resolves.toMatchObject({ config: { inactive_threshold: 1_000 * 1_000_000 } });

        const exited = new Promise((resolveExit) => child.once('exit', resolveExit));
        child.kill('SIGKILL');
        await exited;
        // Its last pull request expires (1 s), then the threshold (1 s) runs out: nobody deletes it but the server.
        await waitFor(
          async () =>
            jsm.consumers.info(stream, 'api__weft_event_ALL').then(
              () => false,
              (error: unknown) => /consumer not found/.test(String(error)),
            ),
          'the server to delete the dead process’s consumer',
          15_000,
        );
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        await bus.close();
        await deleteStreams(bus);
      }
    }, 40_000);

    it("keeps a live subscriber's 'new' consumer past the threshold, and makes it again from where it stopped when it is deleted", async () => {
      const failures: string[] = [];
      await withBus('keep', async (bus) => {
        const stream = bus.streamName(EVENTS_STREAM);
        const seen: string[] = [];
        await bus.consume('weft.event.>', { group: 'api', startAt: 'new' }, async (d) => void seen.push(d.data.eventId));
        const created = (await jsm.consumers.info(stream, 'api__weft_event_ALL')).created;
        // Three thresholds with no traffic: the waiting pull request keeps the consumer. Proof that the
        // thresholds passed, from the server itself: three idle sentinel consumers with the same
        // threshold, one after the other, are each deleted meanwhile.
        for (let i = 0; i < 3; i += 1) {
          const sentinel = `sentinel${i}`;
          await jsm.consumers.add(stream, { durable_name: sentinel, ack_policy: AckPolicy.Explicit, inactive_threshold: nanos(1_000) });
          await waitFor(
            async () =>
              jsm.consumers.info(stream, sentinel).then(
                () => false,
                (error: unknown) => /consumer not found/.test(String(error)),
              ),
            `the server to delete idle sentinel consumer ${i}`,
            15_000,
          );
        }
        await bus.publish('weft.event.run.started', event('e1', 'run.started'));
        await waitFor(() => seen.includes('e1'), 'e1');
        expect((await jsm.consumers.info(stream, 'api__weft_event_ALL')).created).toBe(created);
        expect(failures).toEqual([]);

        // Deleted under the subscriber (an operator, or a long cut-off): what is published meanwhile still arrives.
        await jsm.consumers.delete(stream, 'api__weft_event_ALL');
        await bus.publish('weft.event.step.completed', event('gap', 'step.completed'));
        await waitFor(() => seen.includes('gap'), 'the event published while the consumer was gone', 15_000);
        await bus.publish('weft.event.run.completed', event('e3', 'run.completed'));
        await waitFor(() => seen.includes('e3'), 'e3');
        expect(seen).toEqual(['e1', 'gap', 'e3']);
      }, { liveConsumerInactiveMs: 1_000, onError: (_e, context) => void failures.push(context) });
    }, 40_000);

    it('rejects a message over the server\'s max_payload with PAYLOAD_TOO_LARGE, which no retry can fix', async () => {
      await withBus('big', async (bus) => {
        const huge = 'x'.repeat((admin.info?.max_payload ?? 1_048_576) + 1);
        const result = { runId: 'r', stepId: 's', attempt: 1, token: 'r:s:1', workerId: 'w', finishedAt: 0, outcome: 'completed' as const, output: huge };
        await expect(bus.publish('weft.step.result', result, { msgId: 'r:s:1:result' })).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
        // Refused by the client before anything was sent: the connection is fine and the next publish goes through.
        await expect(bus.publish('weft.step.result', { ...result, output: 'small' })).resolves.toBeUndefined();
      });
    }, 20_000);

    describe('publishes with their PubAcks matched by the bus (PubAcks, not nats.js requests)', () => {
      const stored = async (bus: JetStreamBus, subject: string) => (await jsm.streams.info(bus.streamName(streamForSubject(subject)))).state.messages;
      const waiting = (bus: JetStreamBus) => (bus as unknown as { pubAcks: { size: number } }).pubAcks.size;

      it('resolves a publish once the server stored it, nothing left waiting', async () => {
        await withBus('stored', async (bus) => {
          await bus.publish('weft.step.result', stepResult('a'));
          // No wait: the PubAck came after the message was stored.
          expect(await stored(bus, 'weft.step.result')).toBe(1);
          expect(waiting(bus)).toBe(0);
        });
      });

      it('still de-duplicates by msgId (Nats-Msg-Id): the second publish resolves and stores nothing', async () => {
        await withBus('dedup', async (bus) => {
          await bus.publish('weft.step.result', stepResult('a'), { msgId: 'r:a:1:result' });
          await expect(bus.publish('weft.step.result', stepResult('a'), { msgId: 'r:a:1:result' })).resolves.toBeUndefined();
          await bus.publish('weft.step.result', stepResult('b'), { msgId: 'r:b:1:result' });
          expect(await stored(bus, 'weft.step.result')).toBe(2);
        });
      });

      it('fails with BROKER_ERROR when no stream stores the subject (no responders)', async () => {
        await withBus('nostream', async (bus) => {
          await jsm.streams.delete(bus.streamName(DISPATCH_STREAM));
          const error = await bus.publish('weft.step.dispatch.io', dispatch('a')).catch((e: unknown) => e);
          expect(error).toMatchObject({ code: 'BROKER_ERROR', message: expect.stringMatching(/weft\.step\.dispatch\.io.*no responders/) });
          expect(waiting(bus)).toBe(0);
        });
      });

      it('fails a publish waiting for its PubAck at once when the connection drops, and publishes again after the reconnect', async () => {
        await withBus('drop', async (bus, prefix) => {
          // A core subscriber that never answers in place of the stream: the publish waits (no 503).
          await jsm.streams.delete(bus.streamName(DISPATCH_STREAM));
          const silent = admin.subscribe(`${prefix}.weft.step.dispatch.io`);
          await admin.flush();
          try {
            const started = Date.now();
            const failed = bus.publish('weft.step.dispatch.io', dispatch('a')).catch((e: unknown) => e);
            await waitFor(() => waiting(bus) === 1, 'the publish waiting for its PubAck');
            await (bus as unknown as { nc: NatsConnection }).nc.reconnect();
            // Far inside the 5 s PubAck timeout: the disconnect itself failed it.
            expect(await within(failed, 'the publish to fail', 2_000)).toMatchObject({ code: 'BROKER_ERROR', message: expect.stringMatching(/disconnected/) });
            expect(Date.now() - started).toBeLessThan(2_000);
            expect(waiting(bus)).toBe(0);
          } finally {
            silent.unsubscribe();
          }
          await waitFor(async () => (await bus.health()).ok, 'the bus reconnected', 10_000);
          await bus.publish('weft.step.result', stepResult('b'));
          expect(await stored(bus, 'weft.step.result')).toBe(1);
        });
      }, 20_000);

      it('resolves many concurrent publishes, each stored once', async () => {
        await withBus('many', async (bus) => {
          const ids = Array.from({ length: 2_000 }, (_, i) => `s${i}`);
          await Promise.all(ids.map((id) => bus.publish('weft.step.result', stepResult(id), { msgId: `r:${id}:1:result` })));
          expect(await stored(bus, 'weft.step.result')).toBe(ids.length);
          expect(waiting(bus)).toBe(0);
        });
      }, 20_000);
    });

    describe('held acks (issue 15: one socket write per hop)', () => {
      /** What this process writes to NATS while `during` runs, one string per socket write. */
      async function natsWrites(during: () => Promise<void>): Promise<string[]> {
        const writes: string[] = [];
        const proto = net.Socket.prototype as unknown as { _writeGeneric: (writev: boolean, data: unknown, ...rest: unknown[]) => unknown };
        const original = proto._writeGeneric;
        proto._writeGeneric = function (this: net.Socket, writev: boolean, data: unknown, ...rest: unknown[]) {
          if (this.remotePort === 4222) {
            const chunks = writev ? (data as { chunk: Uint8Array | string }[]).map((c) => c.chunk) : [data as Uint8Array | string];
            writes.push(chunks.map((c) => (typeof c === 'string' ? c : Buffer.from(c).toString('latin1'))).join(''));
          }
          return original.call(this, writev, data, ...rest);
        };
        try {
          await during();
        } finally {
          proto._writeGeneric = original;
        }
        return writes;
      }
      const ackPending = async (bus: JetStreamBus) => (await jsm.consumers.info(bus.streamName(DISPATCH_STREAM), 'exec__weft_step_dispatch_io')).num_ack_pending;

      it("acks a handled message in the same socket write as the bus's next publish", async () => {
        await withBus('ackride', async (bus) => {
          const handled = deferred<void>();
          await bus.consume('weft.step.dispatch.io', { group: 'exec' }, async () => handled.resolve());
          await bus.publish('weft.step.dispatch.io', dispatch('a'));
          await within(handled.promise, 'a handled');
          const writes = await natsWrites(async () => {
            // Past the handler: its ack is held, not written on its own.
            await new Promise((resolve) => setImmediate(resolve));
            await bus.publish('weft.step.result', stepResult('a'));
          });
          const acks = writes.filter((w) => w.includes('+ACK'));
          expect(acks).toHaveLength(1);
          // The ack (a PUB to the message's reply subject) and the publish (an HPUB: it carries headers) in one write.
          expect(acks[0]).toMatch(/HPUB [^ ]*weft\.step\.result /);
          expect(writes).toHaveLength(1);
          await waitFor(async () => (await ackPending(bus)) === 0, 'the ack stored', 900);
        }, { ackDelayMs: 1_000, pullExpiresMs: 30_000 });
      }, 20_000);

      it('sends a held ack on its own after ackDelayMs when the connection writes nothing else', async () => {
        await withBus('acklone', async (bus) => {
          const handled = deferred<void>();
          await bus.consume('weft.step.dispatch.io', { group: 'exec' }, async () => handled.resolve());
          let stored = 0;
          const writes = await natsWrites(async () => {
            await bus.publish('weft.step.dispatch.io', dispatch('a'));
            await within(handled.promise, 'a handled');
            await waitFor(async () => (await ackPending(bus)) === 0, 'the ack stored');
            stored = Date.now();
          });
          expect(stored).toBeGreaterThan(0);
          // Alone: no publish of the bus (an HPUB) rode with it.
          expect(writes.filter((w) => w.includes('+ACK'))).toEqual([expect.not.stringMatching(/HPUB /)]);
        }, { ackDelayMs: 50, pullExpiresMs: 30_000 });
      }, 20_000);

      it('sends held acks when the bus closes: nothing handled comes back to the next subscriber', async () => {
        const prefix = `${RUN}ackclose${++counter}`;
        const first = await openBus(prefix, { ackDelayMs: 1_000, pullExpiresMs: 30_000 });
        let second: JetStreamBus | undefined;
        try {
          const handled = deferred<void>();
          await first.consume('weft.step.dispatch.io', { group: 'exec', ackWaitMs: 30_000 }, async () => handled.resolve());
          await first.publish('weft.step.dispatch.io', dispatch('a'));
          await within(handled.promise, 'a handled');
          await first.close();
          // Well inside the ack wait (30 s): only the ack sent by close() clears it.
          await waitFor(async () => {
            const info = await jsm.consumers.info(first.streamName(DISPATCH_STREAM), 'exec__weft_step_dispatch_io');
            return info.num_ack_pending === 0 && info.ack_floor.stream_seq === 1;
          }, 'the held ack stored', 5_000);
          second = await openBus(prefix);
          const seen: string[] = [];
          await second.consume('weft.step.dispatch.io', { group: 'exec' }, async (d) => void seen.push(d.data.stepId));
          await second.publish('weft.step.dispatch.io', dispatch('b'));
          await waitFor(() => seen.includes('b'), 'b on the second bus');
          expect(seen).toEqual(['b']);
        } finally {
          await second?.close();
          await deleteStreams(first);
        }
      }, 30_000);

      it('sends publishes made a few promise turns apart in one turn in at most two socket writes, in order', async () => {
        const ids = ['a', 'b', 'c', 'd', 'e', 'f'];
        const publishAll = (bus: JetStreamBus) =>
          natsWrites(async () => {
            // As an executor's handlers for one read of dispatches reach their result publishes: a few promise turns apart.
            await Promise.all(
              ids.map(async (id, i) => {
                for (let turn = 0; turn < i * 2; turn++) await Promise.resolve();
                await bus.publish('weft.step.result', stepResult(id));
              }),
            );
          });
        const published = (writes: string[]) => writes.filter((w) => /HPUB [^ ]*weft\.step\.result /.test(w));
        const order = (writes: string[]) => [...writes.join('').matchAll(/"stepId":"([a-z])"/g)].map((m) => m[1]);
        await withBus('coalesce', async (bus) => {
          const writes = await publishAll(bus);
          // The first at once, the five made later in the turn together at its end.
          expect(published(writes)).toHaveLength(2);
          expect(order(writes)).toEqual(ids);
        });
        await withBus('nocoalesce', async (bus) => {
          expect(published(await publishAll(bus))).toHaveLength(ids.length);
        }, { coalescePublishes: false });
      }, 20_000);

      it('refuses an ackDelayMs beyond 1 s', async () => {
        await expect(JetStreamBus.connect({ servers: SERVERS, prefix: 'nope', ackDelayMs: 5_000 })).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
      });
    });

    it('fails fast with a named error when the server cannot be reached', async () => {
      await expect(JetStreamBus.connect({ servers: '127.0.0.1:1', prefix: 'nope' })).rejects.toMatchObject({ code: 'BROKER_ERROR' });
    }, 20_000);
  });
});
