import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { describeWhenReachable, serverReachable } from '@weft/db';
import { describeBusContract, dispatch, waitFor, within, deferred } from './bus.contract';
import { JetStreamBus, type JetStreamBusOptions } from './jetstream.bus';
import { DISPATCH_STREAM } from './subject.util';

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

    it('updates the durable consumer when a subscriber comes back with new options', async () => {
      const prefix = `${RUN}upd${++counter}`;
      const bus = await openBus(prefix);
      try {
        const stream = bus.streamName(DISPATCH_STREAM);
        const first = await bus.consume('weft.step.dispatch.io', { group: 'exec', ackWaitMs: 500, maxDeliver: 3 }, async () => undefined);
        await expect(jsm.consumers.info(stream, 'exec__weft_step_dispatch_io')).resolves.toMatchObject({
          config: { ack_wait: 500 * 1_000_000, max_deliver: 3, ack_policy: 'explicit', deliver_policy: 'all', filter_subject: `${prefix}.weft.step.dispatch.io` },
        });
        await first.drain();
        await bus.consume('weft.step.dispatch.io', { group: 'exec', ackWaitMs: 700, maxDeliver: 5 }, async () => undefined);
        await expect(jsm.consumers.info(stream, 'exec__weft_step_dispatch_io')).resolves.toMatchObject({ config: { ack_wait: 700 * 1_000_000, max_deliver: 5 } });
      } finally {
        await bus.close();
        await deleteStreams(bus);
      }
    }, 20_000);

    it('keeps consuming when its consumer is deleted out from under a running subscription', async () => {
      const prefix = `${RUN}del${++counter}`;
      const bus = await openBus(prefix);
      try {
        const seen: string[] = [];
        await bus.consume('weft.step.dispatch.io', { group: 'exec' }, async (d) => void seen.push(d.data.stepId));
        await bus.publish('weft.step.dispatch.io', dispatch('before'));
        await waitFor(() => seen.includes('before'), 'first message');

        const stream = bus.streamName(DISPATCH_STREAM);
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
      } finally {
        await bus.close();
        await deleteStreams(bus);
      }
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

    it('fails fast with a named error when the server cannot be reached', async () => {
      await expect(JetStreamBus.connect({ servers: '127.0.0.1:1', prefix: 'nope' })).rejects.toMatchObject({ code: 'BROKER_ERROR' });
    }, 20_000);
  });
});
