import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

/** The nats-server binary: NATS_SERVER_BIN, else the one on PATH, else Debian's /usr/sbin/nats-server. */
export function natsServerBinary(): string | undefined {
  if (process.env.NATS_SERVER_BIN) return process.env.NATS_SERVER_BIN;
  const which = spawnSync('which', ['nats-server'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim() !== '') return which.stdout.trim();
  return existsSync('/usr/sbin/nats-server') ? '/usr/sbin/nats-server' : undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

/**
 * A JetStream cluster of `size` nats-servers on loopback, each with its own store in a temp
 * directory: replicated streams cannot be tested against the shared standalone server.
 */
export class NatsCluster {
  private constructor(
    readonly urls: string[],
    private readonly children: ChildProcess[],
    private readonly dir: string,
    private readonly log: string[],
  ) {}

  static async start(size = 3): Promise<NatsCluster> {
    const binary = natsServerBinary();
    if (!binary) throw new Error('nats-server not found (set NATS_SERVER_BIN or install nats-server)');
    const dir = await mkdtemp(join(tmpdir(), 'weft-nats-cluster-'));
    const clientPorts: number[] = [];
    const routePorts: number[] = [];
    for (let i = 0; i < size; i++) {
      clientPorts.push(await freePort());
      routePorts.push(await freePort());
    }
    const routes = routePorts.map((p) => `"nats-route://127.0.0.1:${p}"`).join(', ');
    const log: string[] = [];
    const children: ChildProcess[] = [];
    const cluster = new NatsCluster(
      clientPorts.map((p) => `nats://127.0.0.1:${p}`),
      children,
      dir,
      log,
    );
    try {
      for (let i = 0; i < size; i++) {
        const file = join(dir, `n${i}.conf`);
        await writeFile(
          file,
          [
            `server_name: n${i}`,
            `listen: "127.0.0.1:${clientPorts[i]}"`,
            `jetstream { store_dir: "${join(dir, `store${i}`)}" }`,
            `cluster { name: weft-test, listen: "127.0.0.1:${routePorts[i]}", routes: [${routes}] }`,
          ].join('\n'),
        );
        const child = spawn(binary, ['-c', file], { stdio: ['ignore', 'pipe', 'pipe'] });
        const capture = (data: Buffer): void => void log.push(...data.toString().split('\n').filter(Boolean).map((l) => `[n${i}] ${l}`));
        child.stdout?.on('data', capture);
        child.stderr?.on('data', capture);
        children.push(child);
      }
      await cluster.waitForJetStream();
      return cluster;
    } catch (error) {
      await cluster.close();
      throw new Error(`the NATS cluster did not start: ${String(error)}\n${log.join('\n')}`);
    }
  }

  output(): string {
    return this.log.join('\n');
  }

  /** Until the JetStream meta group has a leader and every server has joined it (an R<size> stream can be placed). */
  private async waitForJetStream(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < deadline) {
      if (this.children.some((c) => c.exitCode !== null)) throw new Error('a nats-server exited');
      try {
        const nc = await connect({ servers: this.urls[0], reconnect: false, timeout: 1_000 });
        try {
          const jsm = await jetstreamManager(nc, { timeout: 1_000 });
          const name = `PROBE_${Date.now()}`;
          await jsm.streams.add({ name, subjects: [`probe.${Date.now()}`], num_replicas: this.urls.length });
          await jsm.streams.delete(name);
          return;
        } finally {
          await nc.close();
        }
      } catch (error) {
        last = error;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
    throw new Error(`JetStream not ready after ${timeoutMs} ms: ${String(last)}`);
  }

  async close(): Promise<void> {
    await Promise.all(
      this.children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
    await rm(this.dir, { recursive: true, force: true });
  }
}
