import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from './ports.util';
import { waitFor } from './wait.util';

export const REPO_ROOT = join(__dirname, '..', '..', '..');

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface HealthAnswer {
  status: number;
  body: { status?: string; checks?: Record<string, { ok: boolean; detail?: string }> } & Record<string, unknown>;
}

/** Every child any test spawned and has not seen exit: killed if the test process goes away. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Variables a child must not inherit from the test's own environment: each test sets its own. */
const WEFT_VARIABLES = /^(NATS_URL|DATABASE_URL|PORT|HOST|LOG_LEVEL|WEFT_.*)$/;

/**
 * A service (or script) running as a child process, with its output captured so a
 * failing test can print it.
 */
export class ServiceProcess {
  readonly exited: Promise<Exit>;
  private exit: Exit | undefined;
  private readonly chunks: string[] = [];

  constructor(
    readonly label: string,
    readonly child: ChildProcess,
    readonly port: number,
  ) {
    live.add(child);
    const capture = (stream: 'out' | 'err') => (data: Buffer) => {
      for (const line of data.toString().split('\n')) if (line !== '') this.chunks.push(`[${label}${stream === 'err' ? '!' : ''}] ${line}`);
    };
    child.stdout?.on('data', capture('out'));
    child.stderr?.on('data', capture('err'));
    this.exited = new Promise((resolve) => {
      // 'close', not 'exit': it comes once stdout and stderr are drained, so the output is complete.
      child.once('close', (code, signal) => {
        live.delete(child);
        this.exit = { code, signal };
        this.chunks.push(`[${label}] exited: code ${code}, signal ${signal}`);
        resolve(this.exit);
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  output(): string {
    return this.chunks.join('\n');
  }

  async health(): Promise<HealthAnswer> {
    const response = await fetch(`${this.url}/health/ready`, { signal: AbortSignal.timeout(5_000) });
    return { status: response.status, body: (await response.json()) as HealthAnswer['body'] };
  }

  /** Polls /health/ready until it answers 200; fails early if the process exits. */
  async waitReady(timeoutMs = 20_000): Promise<void> {
    await waitFor(
      async () => {
        if (this.exit) throw new Error(`${this.label} exited before it was ready (code ${this.exit.code}, signal ${this.exit.signal})`);
        return (await this.health()).status === 200;
      },
      { timeoutMs, intervalMs: 100, what: `${this.label} to be ready` },
    );
  }

  /** Waits for a line of output matching `pattern`. */
  async waitForOutput(pattern: RegExp, timeoutMs: number): Promise<string> {
    return waitFor(() => this.chunks.find((line) => pattern.test(line)), { timeoutMs, what: `${this.label} to print ${pattern}` });
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  /** SIGKILL, and wait until it is gone. */
  async kill(): Promise<Exit> {
    this.signal('SIGKILL');
    return this.exited;
  }

  /** SIGTERM; SIGKILL if it has not exited after `graceMs`. */
  async stop(graceMs = 10_000): Promise<Exit> {
    if (!this.running) return this.exited;
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * Starts a TypeScript entry point in a child process exactly as operators run the
 * services: `node -r @swc-node/register <file>`, with `env` on top of a clean
 * environment (none of the test runner's Weft variables leak in).
 */
export async function spawnTs(label: string, file: string, env: Record<string, string>, args: string[] = []): Promise<ServiceProcess> {
  const port = env.PORT !== undefined ? Number(env.PORT) : await freePort();
  const base = Object.fromEntries(Object.entries(process.env).filter(([key]) => !WEFT_VARIABLES.test(key)));
  const child = spawn(process.execPath, ['-r', '@swc-node/register', file, ...args], {
    cwd: REPO_ROOT,
    env: { ...base, SWC_NODE_PROJECT: join(REPO_ROOT, 'tsconfig.base.json'), HOST: '127.0.0.1', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new ServiceProcess(label, child, port);
}

export type ServiceName = 'scheduler' | 'executor';

/** `node -r @swc-node/register services/<name>/src/main.ts`, waiting for readiness unless told not to. */
export async function spawnService(name: ServiceName, env: Record<string, string>, options: { label?: string; waitReady?: boolean } = {}): Promise<ServiceProcess> {
  const service = await spawnTs(options.label ?? name, join('services', name, 'src', 'main.ts'), env);
  if (options.waitReady !== false) await service.waitReady();
  return service;
}
