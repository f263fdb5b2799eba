import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.util';
import { waitFor } from './wait.util';

/** The nats-server binary: NATS_SERVER_BIN, else the one on PATH, else Debian's /usr/sbin/nats-server. */
export function natsServerBinary(): string | undefined {
  if (process.env.NATS_SERVER_BIN) return process.env.NATS_SERVER_BIN;
  const which = spawnSync('which', ['nats-server'], { encoding: 'utf8' });
  const onPath = which.status === 0 ? which.stdout.trim() : '';
  if (onPath) return onPath;
  return existsSync('/usr/sbin/nats-server') ? '/usr/sbin/nats-server' : undefined;
}

/**
 * A nats-server of this test's own, with JetStream in a temporary store directory, so
 * a test can kill and restart it without touching the shared server on 4222.
 */
export class PrivateNats {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private log: string[] = [];

  private constructor(
    private readonly binary: string,
    readonly port: number,
    readonly storeDir: string,
  ) {}

  static async start(): Promise<PrivateNats> {
    const binary = natsServerBinary();
    if (!binary) throw new Error('nats-server not found (set NATS_SERVER_BIN or install nats-server)');
    const nats = new PrivateNats(binary, await freePort(), await mkdtemp(join(tmpdir(), 'weft-nats-')));
    await nats.boot();
    return nats;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  output(): string {
    return this.log.join('\n');
  }

  /** Starts the server on the same port and store directory (after `kill`). */
  async boot(): Promise<void> {
    if (this.child) return;
    const child = spawn(this.binary, ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const lines: string[] = [];
    const capture = (data: Buffer) => {
      for (const line of data.toString().split('\n')) if (line !== '') lines.push(line);
      this.log.push(...data.toString().split('\n').filter(Boolean).map((l) => `[nats:${this.port}] ${l}`));
    };
    child.stdout?.on('data', capture);
    child.stderr?.on('data', capture);
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    void this.exited.then(() => {
      if (this.child === child) this.child = undefined;
    });
    await waitFor(
      () => {
        if (this.child !== child) throw new Error(`nats-server exited at boot:\n${lines.join('\n')}`);
        return lines.some((line) => line.includes('Server is ready'));
      },
      { timeoutMs: 15_000, what: 'the private nats-server to be ready' },
    );
  }

  /** SIGKILL: the broker vanishes mid-flight, as a crashed pod would. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill('SIGKILL');
    await this.exited;
  }

  async close(): Promise<void> {
    await this.kill();
    await rm(this.storeDir, { recursive: true, force: true });
  }
}

/** Runs `body` with a private nats-server and always removes it (process and store). */
export async function withPrivateNats<T>(body: (nats: PrivateNats) => Promise<T>): Promise<T> {
  const nats = await PrivateNats.start();
  try {
    return await body(nats);
  } finally {
    await nats.close();
  }
}
