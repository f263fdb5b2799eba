import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { describeWhenReachable } from '@weft/db/testing';
import { NatsCluster, natsServerBinary } from './testing/nats-cluster.fixture';
import { JetStreamBus } from './jetstream.bus';
import { DISPATCH_STREAM } from './subject.util';

// Replicated streams need a JetStream cluster: three private nats-servers (never the shared one on 4222).
describeWhenReachable('JetStreamBus replicas on a three-server JetStream cluster', [{ what: 'the nats-server binary (NATS_SERVER_BIN, PATH or /usr/sbin/nats-server)', up: natsServerBinary() !== undefined }], () => {
  let cluster: NatsCluster;
  let admin: NatsConnection;
  let jsm: JetStreamManager;
  const buses: JetStreamBus[] = [];

  beforeAll(async () => {
    cluster = await NatsCluster.start(3);
    admin = await connect({ servers: cluster.urls });
    jsm = await jetstreamManager(admin);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(buses.map((b) => b.close().catch(() => undefined)));
    await admin?.close();
    await cluster?.close();
  });

  async function open(replicas: number | undefined, server = 0): Promise<JetStreamBus> {
    const bus = await JetStreamBus.connect({ servers: cluster.urls[server], prefix: 'rep', replicas, pullExpiresMs: 2_000, onError: () => undefined });
    buses.push(bus);
    return bus;
  }

  /** Replicas of each stream as configured, and as placed (the leader plus its followers). */
  async function placement(bus: JetStreamBus): Promise<{ configured: number[]; placed: number[] }> {
    const infos = await Promise.all(bus.streamNames().map((name) => jsm.streams.info(name)));
    return { configured: infos.map((i) => i.config.num_replicas), placed: infos.map((i) => 1 + (i.cluster?.replicas?.length ?? 0)) };
  }

  it('creates, scales up, keeps, scales down, and refuses more replicas than servers, consumers following their stream', async () => {
    const first = await open(undefined);
    expect(await placement(first)).toEqual({ configured: [1, 1, 1, 1], placed: [1, 1, 1, 1] });
    await first.consume('weft.step.dispatch.io', { group: 'exec' }, async () => undefined);
    await first.close();

    // The boot-time update scales existing streams up.
    const up = await open(3, 1);
    const consumerPeers = async (): Promise<number> => {
      const info = await jsm.consumers.info(up.streamName(DISPATCH_STREAM), 'exec__weft_step_dispatch_io');
      return 1 + (info.cluster?.replicas?.length ?? 0);
    };
    const settled = async (replicas: number): Promise<void> => {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const { placed } = await placement(up);
        if (placed.every((n) => n === replicas) && (await consumerPeers()) === replicas) return;
        if (Date.now() > deadline) throw new Error(`streams and consumer not at ${replicas} replicas: ${JSON.stringify(placed)}, consumer ${await consumerPeers()}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    };
    expect((await placement(up)).configured).toEqual([3, 3, 3, 3]);
    await settled(3);
    await up.close();

    // A process that does not say (weft worker, the SDK's worker) keeps what it finds.
    await (await open(undefined, 2)).close();
    expect((await placement(up)).configured).toEqual([3, 3, 3, 3]);

    // More than the cluster's servers: a named error, and nothing changed.
    await expect(open(5)).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
      message: expect.stringContaining('(option replicas, WEFT_NATS_REPLICAS=5): the JetStream cluster has fewer than 5 servers'),
    });
    expect((await placement(up)).configured).toEqual([3, 3, 3, 3]);

    // And down again.
    const down = await open(1);
    expect((await placement(down)).configured).toEqual([1, 1, 1, 1]);
    await settled(1);
    // The bus still works on the scaled streams.
    const seen: string[] = [];
    await down.consume('weft.step.dispatch.io', { group: 'exec' }, async (d) => void seen.push(d.data.stepId));
    await down.publish('weft.step.dispatch.io', {
      runId: 'r',
      workflow: 'w',
      stepId: 'after-scaling',
      attempt: 1,
      token: 'r:after-scaling:1',
      action: 'noop',
      input: {},
      queue: 'io',
      timeoutMs: 1_000,
    });
    const deadline = Date.now() + 10_000;
    while (!seen.includes('after-scaling') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(seen).toEqual(['after-scaling']);
  }, 90_000);
});
