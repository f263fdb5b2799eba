import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { JetStreamBus } from '@weft/bus';
import type { RunStatus, RunState } from '@weft/core';
import { dropSchema, randomSchemaName } from '@weft/db/testing';
import { openSqlRunStore, type SqlRunStore } from '@weft/scheduler';
import type { DataSource } from 'typeorm';
import { POSTGRES_URL, SHARED_NATS_URL } from './infra.util';
import { type ServiceName, type ServiceProcess, spawnService } from './service-process.util';
import { waitFor } from './wait.util';

export const RECORD_ACTIONS = join(__dirname, 'record.actions.js');

/** One line the `test.record` action wrote. */
export interface StepRecord {
  event: 'start' | 'done' | 'aborted';
  runId: string;
  stepId: string;
  attempt: number;
  pid: number;
  at: number;
}

export interface StepSpec {
  id: string;
  action?: string;
  needs?: string[];
  with?: Record<string, unknown>;
  timeout?: string;
  retry?: Record<string, unknown>;
}

let counter = 0;
const RUN = `dt${process.pid.toString(36)}${Date.now().toString(36)}`;

/**
 * One fault scenario: its own NATS prefix (streams), PostgreSQL schema and temp dir, the
 * processes it spawned, and a cleanup that always runs. Services get short intervals
 * (lease, heartbeats, polls, pulls) so faults resolve in seconds.
 */
export class Scenario {
  readonly prefix = `${RUN}s${++counter}`;
  readonly schema = randomSchemaName('dist');
  natsUrl = SHARED_NATS_URL;
  private readonly processes: ServiceProcess[] = [];
  private readonly spawned = new Map<string, number>();
  private readonly logSources: (() => string)[] = [];
  private readonly cleanups: (() => Promise<void>)[] = [];
  private openedBus: JetStreamBus | undefined;
  private opened: { store: SqlRunStore; dataSource: DataSource } | undefined;

  private constructor(
    readonly title: string,
    readonly dir: string,
  ) {}

  static async open(title: string): Promise<Scenario> {
    return new Scenario(title, await mkdtemp(join(tmpdir(), 'weft-dist-')));
  }

  get recordFile(): string {
    return join(this.dir, 'records.jsonl');
  }

  /** A file `test.record` steps wait for (`with: { until: s.releaseFile }`); `release()` creates it. */
  get releaseFile(): string {
    return join(this.dir, 'release');
  }

  release(): Promise<void> {
    return writeFile(this.releaseFile, '');
  }

  /** Environment of a service in this scenario; `overrides` win. */
  env(overrides: Record<string, string> = {}): Record<string, string> {
    return {
      NATS_URL: this.natsUrl,
      WEFT_NATS_PREFIX: this.prefix,
      DATABASE_URL: POSTGRES_URL,
      WEFT_DB_SCHEMA: this.schema,
      WEFT_ACTIONS: RECORD_ACTIONS,
      WEFT_POLL_INTERVAL_MS: '100',
      WEFT_LEASE_MS: '3000',
      WEFT_HEARTBEAT_MS: '300',
      WEFT_OUTBOX_CLAIM_MS: '1000',
      WEFT_NATS_PULL_EXPIRES_MS: '2000',
      WEFT_SHUTDOWN_GRACE_MS: '5000',
      WEFT_CONCURRENCY: '8',
      ...overrides,
    };
  }

  async spawn(name: ServiceName, overrides: Record<string, string> = {}, options: { label?: string; waitReady?: boolean } = {}): Promise<ServiceProcess> {
    const count = (this.spawned.get(name) ?? 0) + 1;
    this.spawned.set(name, count);
    const label = options.label ?? `${name}#${count}`;
    // Registered before it is ready, so a service that never gets ready is still killed and its output shown.
    const service = await spawnService(name, this.env(overrides), { label, waitReady: false });
    this.processes.push(service);
    if (options.waitReady !== false) await service.waitReady();
    return service;
  }

  /** Registers a process started some other way, so it is killed and its output shown. */
  adopt(service: ServiceProcess): ServiceProcess {
    this.processes.push(service);
    return service;
  }

  /** A JetStreamBus of the test itself on this scenario's prefix (creates the streams). */
  async bus(): Promise<JetStreamBus> {
    this.openedBus ??= await JetStreamBus.connect({ servers: this.natsUrl, name: `test-${this.prefix}`, prefix: this.prefix, pullExpiresMs: 2_000, onError: () => undefined });
    return this.openedBus;
  }

  /** The scheduler's store on this scenario's schema, read directly (not through any proxy). */
  async store(): Promise<SqlRunStore> {
    this.opened ??= await openSqlRunStore({ kind: 'postgres', url: POSTGRES_URL, schema: this.schema }, { migrate: true });
    return this.opened.store;
  }

  async sql<T>(query: string, params: unknown[] = []): Promise<T[]> {
    await this.store();
    const opened = this.opened;
    if (!opened) throw new Error('store not open');
    return opened.dataSource.query(query, params) as Promise<T[]>;
  }

  /** Submits a run the way any producer does: `weft.run.requested` on the bus. */
  async submit(name: string, steps: StepSpec[], options: { runId?: string; inputs?: Record<string, unknown> } = {}): Promise<string> {
    const runId = options.runId ?? `${name}-${Math.random().toString(36).slice(2, 10)}`;
    const bus = await this.bus();
    await bus.publish('weft.run.requested', {
      idempotencyKey: runId,
      runId,
      workflow: name,
      spec: workflowSpec(name, steps),
      inputs: options.inputs ?? {},
      source: 'test',
    });
    return runId;
  }

  /** Polls the run in PostgreSQL until `done(run)` holds. */
  async waitForRun(runId: string, done: (run: RunState) => boolean, timeoutMs: number, what?: string): Promise<RunState> {
    const store = await this.store();
    return waitFor(
      async () => {
        const run = await store.getRun(runId);
        return run && done(run) ? run : undefined;
      },
      { timeoutMs, intervalMs: 100, what: what ?? `run ${runId}` },
    );
  }

  waitForStatus(runId: string, status: RunStatus, timeoutMs: number): Promise<RunState> {
    return this.waitForRun(runId, (run) => run.status === status, timeoutMs, `run ${runId} to be ${status}`);
  }

  async records(): Promise<StepRecord[]> {
    const text = await readFile(this.recordFile, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return '';
      throw error;
    });
    return text
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as StepRecord);
  }

  onCleanup(cleanup: () => Promise<void>): void {
    this.cleanups.push(cleanup);
  }

  addLogSource(source: () => string): void {
    this.logSources.push(source);
  }

  logs(): string {
    return [...this.processes.map((p) => p.output()), ...this.logSources.map((s) => s())].filter(Boolean).join('\n');
  }

  /** Kills what is left, deletes the streams, drops the schema, removes the temp dir. Never throws. */
  async close(): Promise<string[]> {
    const problems: string[] = [];
    const attempt = async (what: string, step: () => Promise<unknown>) => {
      try {
        await step();
      } catch (error) {
        problems.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
      }
    };
    await Promise.all(this.processes.map((p) => attempt(`kill ${p.label}`, () => p.kill())));
    for (const cleanup of this.cleanups.splice(0).reverse()) await attempt('cleanup', cleanup);
    if (this.openedBus) {
      const bus = this.openedBus;
      await attempt('close bus', () => bus.close());
    }
    await attempt('delete streams', () => deleteStreams(this.natsUrl, this.prefix));
    if (this.opened) {
      const { store, dataSource } = this.opened;
      await attempt('close store', async () => {
        await store.close();
        await dataSource.destroy();
      });
    }
    await attempt('drop schema', () => dropSchema(this.schema, POSTGRES_URL));
    await attempt('remove temp dir', () => rm(this.dir, { recursive: true, force: true }));
    return problems;
  }
}

/** Deletes every stream whose name starts with the prefix (upper-cased, as the bus names them). */
async function deleteStreams(servers: string, prefix: string): Promise<void> {
  const nc = await connect({ servers, name: `cleanup-${prefix}`, reconnect: false, timeout: 2_000 }).catch(() => undefined);
  if (!nc) return; // a private server already gone took its streams with it
  try {
    const jsm = await jetstreamManager(nc);
    const names: string[] = [];
    for await (const name of jsm.streams.names()) if (name.startsWith(`${prefix.toUpperCase()}_`)) names.push(name);
    for (const name of names) await jsm.streams.delete(name);
  } finally {
    await nc.close();
  }
}

export function workflowSpec(name: string, steps: StepSpec[]): Record<string, unknown> {
  return {
    apiVersion: 'weft/v1',
    kind: 'Workflow',
    name,
    steps: steps.map((s) => ({ action: 'test.record', ...s })),
  };
}

/**
 * A jest test around a Scenario: the body gets `budgetMs`, cleanup always runs, and a
 * failure carries the output of every process the scenario started.
 */
export function scenario(title: string, budgetMs: number, body: (s: Scenario) => Promise<void>): void {
  it(
    title,
    async () => {
      const s = await Scenario.open(title);
      let timer: NodeJS.Timeout | undefined;
      try {
        const deadline = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`scenario "${title}" exceeded its budget of ${budgetMs}ms`)), budgetMs);
        });
        await Promise.race([body(s), deadline]);
      } catch (error) {
        const logs = s.logs().split('\n').slice(-400).join('\n');
        if (error instanceof Error) error.message += `\n\n--- output of the scenario's processes (last 400 lines) ---\n${logs}`;
        throw error;
      } finally {
        clearTimeout(timer);
        const problems = await s.close();

        if (problems.length > 0) console.warn(`cleanup of "${title}": ${problems.join('; ')}`);
      }
    },
    // Room for the cleanup after the body's own budget.
    budgetMs + 20_000,
  );
}
