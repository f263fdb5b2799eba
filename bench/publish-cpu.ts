/**
 * CPU of this process per JetStreamBus.publish (issue 15: the publish path alone, without the rest
 * of a chain step). Publishes N step results in waves of W concurrent publishes (as a scheduler's
 * or an executor's turn) against NATS at 127.0.0.1:4222 on a fresh prefix, after 2,000 warm-up
 * publishes, and deletes the streams afterwards. `root` loads the bus of another checkout, so the
 * same script measures a base that does not have it (run it from that checkout's directory):
 *
 *   node -r @swc-node/register bench/publish-cpu.ts [n=20000] [wave=10] [root=this checkout]
 */
import { resolve } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

type BusModule = typeof import('../libs/bus/src/jetstream.bus');

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 20_000);
  const wave = Number(process.argv[3] ?? 10);
  const root = resolve(process.argv[4] ?? resolve(__dirname, '..'));
  const { JetStreamBus } = (await import(resolve(root, 'libs/bus/src/jetstream.bus.ts'))) as BusModule;
  const servers = process.env.NATS_URL ?? '127.0.0.1:4222';
  const bus = await JetStreamBus.connect({ servers, prefix: `pubcpu${process.pid}`, onError: () => undefined });
  const result = (i: number) => ({ outcome: 'completed' as const, runId: 'r1', stepId: `s${i}`, attempt: 1, token: `r1:s${i}:1`, workerId: 'w1', output: { ok: true, i } });
  const run = async (count: number) => {
    for (let i = 0; i < count; i += wave) {
      await Promise.all(Array.from({ length: wave }, (_, k) => bus.publish('weft.step.result', result(i + k), { msgId: `m${i + k}` })));
    }
  };
  try {
    await run(2_000);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await run(n);
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    console.log(`${root}: ${n} publishes in waves of ${wave}: ${((cpu.user + cpu.system) / n).toFixed(1)} us CPU per publish (kernel ${(cpu.system / n).toFixed(1)}), ${((wall * 1000) / n).toFixed(1)} us wall`);
  } finally {
    await bus.close();
    // The bus's streams, removed through a connection of this script's own.
    const nc = await connect({ servers });
    const jsm = await jetstreamManager(nc);
    for (const name of bus.streamNames()) await jsm.streams.delete(name).catch(() => false);
    await nc.close();
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
