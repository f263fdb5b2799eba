/**
 * Weft under test, two ways:
 * - `embedded`: `startEmbedded` (in-memory bus + MemoryRunStore; ad-hoc specs, validated per run,
 *   exactly like `weft run`). Nothing durable.
 * - `distributed`: JetStreamBus + SqlRunStore on PostgreSQL + Scheduler in this process, and
 *   the executor (createWorker) in a process of its own (bench/executor.child.ts), as
 *   deployed; `executor: 'inline'` puts it in this process (the harness before 2026-12).
 *   Workflows come from a catalog (registered workflows, as in production).
 *
 * A run is finished when the scheduler commits its terminal state: a thin RunStore wrapper
 * sees that (and counts store calls), so no extra consumer loads the bus.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection, type Subscription as NatsSubscription } from '@nats-io/transport-node';
import { type Bus, JetStreamBus } from '@weft/bus';
import { startEmbedded, type EmbeddedRuntime } from '@weft/cli';
import { TERMINAL_RUN_STATUSES } from '@weft/contracts';
import type { RunState, WorkflowSpec } from '@weft/core';
import { MemoryRunStore, openSqlRunStore, type RunStore, type SqlRunStore, Scheduler, type WorkflowCatalog } from '@weft/scheduler';
import { chain, fanOutFanIn, parallel, step, workflow } from '@weft/sdk';
import { builtinActions, createWorker, silentLogger, type Worker } from '@weft/worker';
import type { DataSource } from 'typeorm';
import { adminQuery, countPgQueries, pgCounters, pgUrl } from '../lib/pg.util';
import { backendPids, pidsNamed, type ProcessGroups } from '../lib/proc-cpu.util';
import { type BenchSystem, type RunOutcome, type Shape, type StepTiming } from '../lib/system.port';

export const NATS_URL = 'nats://127.0.0.1:4222';

/** The SDK-built spec of a shape (cached: building validates). */
const specs = new Map<string, WorkflowSpec>();

/** A run's inputs for a shape: a forEach's list (0..items-1); nothing otherwise. */
const inputsOf = (shape: Shape): Record<string, unknown> => (shape.kind === 'foreach' ? { xs: Array.from({ length: shape.items }, (_, i) => i) } : {});
export function weftSpec(shape: Shape): WorkflowSpec {
  const key = JSON.stringify(shape);
  const cached = specs.get(key);
  if (cached) return cached;
  let spec: WorkflowSpec;
  switch (shape.kind) {
    case 'chain':
      spec = workflow(`bench-chain-${shape.steps}`)
        .add(chain(...Array.from({ length: shape.steps }, (_, i) => step(`s${i}`, 'noop'))))
        .build();
      break;
    case 'fan':
      spec = workflow(`bench-fan-${shape.width}`)
        .add(chain(step('src', 'noop'), fanOutFanIn({ id: 'b', action: 'noop', count: shape.width, join: { id: 'join', action: 'noop' } })))
        .build();
      break;
    case 'diamond': {
      const layers = Array.from({ length: shape.layers }, (_, l) => parallel(...Array.from({ length: shape.width }, (_, i) => step(`l${l}_${i}`, 'noop'))));
      spec = workflow(`bench-diamond-${shape.layers}x${shape.width}`)
        .add(chain(...layers))
        .build();
      break;
    }
    case 'flat':
      spec = workflow(`bench-flat-${shape.steps}`)
        .add(...Array.from({ length: shape.steps }, (_, i) => step(`s${i}`, 'noop')))
        .build();
      break;
    case 'sleeper':
      spec = workflow('bench-sleeper')
        .add(chain(step('wait', 'sleep', { with: { duration: shape.sleepMs }, timeout: '1h' }), step('after', 'noop')))
        .build();
      break;
    case 'foreach':
      spec = {
        apiVersion: 'weft/v1',
        kind: 'Workflow',
        name: `bench-foreach-c${shape.concurrency}`,
        inputs: { xs: { type: 'array', required: true } },
        steps: [{ id: 'each', action: 'noop', forEach: '${{ inputs.xs }}', concurrency: shape.concurrency, with: { n: '${{ item }}' } }],
      };
      break;
  }
  specs.set(key, spec);
  return spec;
}

/**
 * Wraps a RunStore: resolves waiters when a run's terminal state is committed and counts
 * calls per method. A Proxy, so it follows the port as it grows.
 */
export class ObservedStore {
  readonly calls: Record<string, number> = {};
  readonly store: RunStore;
  /** When set, sees every store call's start and end (performance.now()); bench/hop-trace.ts. */
  timeline: ((call: string, start: number, end: number) => void) | undefined;
  private readonly waiters = new Map<string, (state: RunState, at: number) => void>();

  constructor(readonly inner: RunStore) {
    const calls = this.calls;
    const timed = (call: string, start: number): void => this.timeline?.(call, start, performance.now());
    const settled = (state: RunState | undefined): void => {
      if (!state || !TERMINAL_RUN_STATUSES.includes(state.status)) return;
      const waiter = this.waiters.get(state.runId);
      if (!waiter) return;
      this.waiters.delete(state.runId);
      waiter(state, performance.now());
    };
    this.store = new Proxy(inner, {
      get(target, prop, receiver) {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function' || typeof prop !== 'string') return value;
        return (...args: unknown[]) => {
          calls[prop] = (calls[prop] ?? 0) + 1;
          const start = performance.now();
          const result: unknown = Reflect.apply(value, target, args);
          if (!(result instanceof Promise)) return result;
          return result.then((out: unknown) => {
            timed(prop, start);
            if (prop === 'updateRun') settled(out as RunState | undefined);
            return out;
          });
        };
      },
    });
  }

  wait(runId: string): Promise<{ state: RunState; at: number }> {
    return new Promise((resolve) => this.waiters.set(runId, (state, at) => resolve({ state, at })));
  }
}

function timings(state: RunState): StepTiming[] {
  const out: StepTiming[] = [];
  for (const step of Object.values(state.steps)) {
    const last = step.attempts[step.attempts.length - 1];
    if (last?.startedAt !== undefined && last.finishedAt !== undefined) out.push({ id: step.id, queued: last.dispatchedAt, start: last.startedAt, end: last.finishedAt });
  }
  return out;
}

const catalogOf = (byName: Map<string, WorkflowSpec>): WorkflowCatalog => ({
  resolve: async (name) => {
    const spec = byName.get(name);
    return spec ? { spec, version: '1' } : undefined;
  },
});

abstract class WeftBase implements BenchSystem {
  abstract readonly name: string;
  protected abstract scheduler(): Scheduler;
  abstract store(): ObservedStore;
  /** Registered workflows (distributed) or ad-hoc specs (embedded). */
  protected abstract readonly adhoc: boolean;
  protected readonly registered = new Map<string, WorkflowSpec>();

  abstract setup(): Promise<void>;
  abstract durability(): Promise<Record<string, string>>;
  abstract teardown(): Promise<void>;

  /** Starts a run nobody waits for (memory per waiting run). */
  async startDetached(shape: Shape): Promise<void> {
    const spec = weftSpec(shape);
    this.registered.set(spec.name, spec);
    const runId = randomUUID();
    await this.scheduler().startRun({ idempotencyKey: runId, runId, workflow: spec.name, ...(this.adhoc && { spec }), inputs: {}, source: 'bench' });
  }

  prepare(shape: Shape): void {
    weftSpec(shape);
  }

  async startAndCancel(shape: Shape, afterMs: number): Promise<number> {
    const spec = weftSpec(shape);
    this.registered.set(spec.name, spec);
    const runId = randomUUID();
    const done = this.store().wait(runId);
    await this.scheduler().startRun({ idempotencyKey: runId, runId, workflow: spec.name, ...(this.adhoc && { spec }), inputs: {}, source: 'bench' });
    await new Promise((resolve) => setTimeout(resolve, afterMs));
    const requested = performance.now();
    await this.scheduler().cancelRun(runId, 'bench W6');
    const { state, at } = await done;
    if (state.status !== 'canceled') throw new Error(`run ${runId} ended ${state.status} before it could be canceled`);
    return at - requested;
  }

  async start(shape: Shape, options: { timings?: boolean } = {}): Promise<{ finished: Promise<RunOutcome> }> {
    const spec = weftSpec(shape);
    this.registered.set(spec.name, spec);
    const runId = randomUUID();
    const done = this.store().wait(runId);
    const submittedAt = performance.now();
    await this.scheduler().startRun({
      idempotencyKey: runId,
      runId,
      workflow: spec.name,
      ...(this.adhoc && { spec }),
      inputs: inputsOf(shape),
      source: 'bench',
    });
    return {
      finished: done.then(({ state, at }) => {
        if (state.status !== 'completed') throw new Error(`run ${runId} ended ${state.status}: ${state.error?.message ?? ''}`);
        return { submittedAt, finishedAt: at, ...(options.timings && { steps: timings(state) }) };
      }),
    };
  }
}

export class WeftEmbedded extends WeftBase {
  readonly name = 'weft-embedded';
  protected readonly adhoc = true;
  private runtime: EmbeddedRuntime | undefined;
  private observed = new ObservedStore(new MemoryRunStore());

  constructor(private readonly concurrency: number) {
    super();
  }

  protected scheduler(): Scheduler {
    if (!this.runtime) throw new Error('not set up');
    return this.runtime.scheduler;
  }
  store(): ObservedStore {
    return this.observed;
  }

  async setup(): Promise<void> {
    this.runtime = await startEmbedded({ store: this.observed.store, concurrency: this.concurrency, logger: silentLogger });
  }

  /** Everything runs in this process. */
  async processes(): Promise<ProcessGroups> {
    return {};
  }

  async durability(): Promise<Record<string, string>> {
    return { store: 'MemoryRunStore (nothing durable)', bus: 'InMemoryBus', specs: 'ad hoc (validated per run, like `weft run`)' };
  }

  async counters(): Promise<Record<string, number>> {
    return prefixed('store.', this.observed.calls);
  }

  async teardown(): Promise<void> {
    await this.runtime?.close();
  }
}

export interface DistributedOptions {
  concurrency: number;
  /** Count NATS traffic with wildcard subscriptions (costs a little CPU). */
  countMessages?: boolean;
  /** SqlRunStoreOptions.relaxedLingerMs (experiments). */
  relaxedLingerMs?: number;
  /** SqlRunStoreOptions.markLingerMs (0: published marks on their own, the behaviour before 2026-12). */
  markLingerMs?: number;
  /** SqlRunStoreOptions.stateCacheMaxSize (1000: the state cache does not grow, the behaviour before 2026-12-06, session 7). */
  stateCacheMaxSize?: number;
  /** Where the executor runs: its own process (as deployed) or this one. @default 'process' */
  executor?: 'process' | 'inline';
}

export class WeftDistributed extends WeftBase {
  readonly name = 'weft-distributed';
  protected readonly adhoc = false;
  readonly database = `bench_weft_${process.pid}`;
  readonly prefix = `bench_${randomBytes(4).toString('hex')}`;
  private observed: ObservedStore | undefined;
  private dataSource: DataSource | undefined;
  private sched: Scheduler | undefined;
  private worker: Worker | undefined;
  private executorProcess: ChildProcess | undefined;
  private readonly buses: Bus[] = [];
  private streams: string[] = [];
  private counter: NatsCounter | undefined;
  private readonly pgCalls = countPgQueries();
  private sqlStore: SqlRunStore | undefined;

  constructor(private readonly options: DistributedOptions) {
    super();
  }

  protected scheduler(): Scheduler {
    if (!this.sched) throw new Error('not set up');
    return this.sched;
  }
  /** The wrapped store (counters, timeline). */
  store(): ObservedStore {
    if (!this.observed) throw new Error('not set up');
    return this.observed;
  }

  async setup(): Promise<void> {
    await adminQuery(`DROP DATABASE IF EXISTS ${this.database} WITH (FORCE)`);
    await adminQuery(`CREATE DATABASE ${this.database}`);
    const opened = await openSqlRunStore(
      { kind: 'postgres', url: pgUrl(this.database), schema: 'weft' },
      {
        ...(this.options.relaxedLingerMs !== undefined && { relaxedLingerMs: this.options.relaxedLingerMs }),
        ...(this.options.markLingerMs !== undefined && { markLingerMs: this.options.markLingerMs }),
        ...(this.options.stateCacheMaxSize !== undefined && { stateCacheMaxSize: this.options.stateCacheMaxSize }),
      },
    );
    this.dataSource = opened.dataSource;
    this.sqlStore = opened.store;
    this.observed = new ObservedStore(opened.store);
    const schedulerBus = await JetStreamBus.connect({ servers: NATS_URL, prefix: this.prefix, name: 'bench-scheduler' });
    this.buses.push(schedulerBus);
    this.streams = schedulerBus.streamNames();
    if (this.options.countMessages) this.counter = await NatsCounter.start(this.prefix, this.streams);
    this.sched = new Scheduler({ bus: schedulerBus, store: this.observed.store, catalog: catalogOf(this.registered), ...(process.env.WEFT_SHARED_WINDOW && { sharedWindow: Number(process.env.WEFT_SHARED_WINDOW) }) });
    await this.sched.start();
    if ((this.options.executor ?? 'process') === 'process') {
      this.executorProcess = await startExecutorProcess(this.prefix, this.options.concurrency);
    } else {
      const workerBus = await JetStreamBus.connect({ servers: NATS_URL, prefix: this.prefix, name: 'bench-executor' });
      this.buses.push(workerBus);
      this.worker = createWorker({
        bus: workerBus,
        queues: ['default'],
        actions: builtinActions(),
        concurrency: this.options.concurrency,
        logger: silentLogger,
        shutdownGraceMs: 200,
      });
      await this.worker.start();
    }
  }

  async processes(): Promise<ProcessGroups> {
    return {
      ...(this.executorProcess?.pid !== undefined && { executor: [this.executorProcess.pid] }),
      postgres: await backendPids(this.database),
      'nats-server': pidsNamed('nats-server'),
    };
  }

  async durability(): Promise<Record<string, string>> {
    const rows = await adminQuery<{ name: string; setting: string }>(
      `SELECT name, setting FROM pg_settings WHERE name IN ('synchronous_commit', 'fsync', 'wal_sync_method', 'commit_delay') ORDER BY name`,
    );
    return {
      postgres: rows.map((r) => `${r.name}=${r.setting}`).join(', '),
      nats: 'JetStream file storage, R1, server sync_interval default (2 min: acks precede fsync)',
      topology: `${this.executorProcess ? 'scheduler and executor in separate processes' : 'scheduler + executor in one process, separate NATS connections'}; registered workflows`,
    };
  }

  async counters(): Promise<Record<string, number>> {
    const pgStats = await pgCounters(this.database);
    return {
      'pgstat.commits': pgStats.commits,
      'pgstat.rollbacks': pgStats.rollbacks,
      'pgstat.walBytes': pgStats.walBytes,
      ...prefixed('store.', this.store().calls),
      ...prefixed('pg.', this.pgCalls()),
      ...prefixed('writes.', this.sqlStore?.writeStats() ?? {}),
      ...(this.counter ? prefixed('nats.', this.counter.counts) : {}),
    };
  }

  async teardown(): Promise<void> {
    await this.worker?.stop();
    await stopExecutorProcess(this.executorProcess);
    await this.sched?.stop();
    await this.observed?.store.close();
    await this.dataSource?.destroy();
    await this.counter?.close();
    for (const bus of this.buses) await bus.close();
    await deleteStreams(this.streams);
    await adminQuery(`DROP DATABASE IF EXISTS ${this.database} WITH (FORCE)`);
  }
}

/** bench/executor.child.ts on this install's prefix; resolves once it serves the queue. */
async function startExecutorProcess(prefix: string, concurrency: number): Promise<ChildProcess> {
  const proc = fork(path.join(__dirname, '..', 'executor.child.ts'), [prefix, String(concurrency)], {
    execArgv: ['-r', '@swc-node/register', ...(process.env.EXECUTOR_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.EXECUTOR_CPU_PROF}`] : [])],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the executor process did not start within 60 s')), 60_000);
    proc.once('message', () => {
      clearTimeout(timer);
      resolve();
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the executor process exited with ${String(code)}`));
    });
  });
  return proc;
}

async function stopExecutorProcess(proc: ChildProcess | undefined): Promise<void> {
  if (!proc || proc.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.send('stop');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

function prefixed(prefix: string, values: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [`${prefix}${k}`, v]));
}

export async function deleteStreams(names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  const nc = await connect({ servers: NATS_URL, name: 'bench-cleanup' });
  try {
    const jsm = await jetstreamManager(nc);
    for (const name of names) await jsm.streams.delete(name).catch(() => false);
  } finally {
    await nc.close();
  }
}

/**
 * Counts NATS traffic of one Weft install from the outside (the server's monitoring
 * endpoint is off): publishes under its prefix, acks and pull requests on its streams.
 */
export class NatsCounter {
  readonly counts: Record<string, number> = {};
  private constructor(
    private readonly nc: NatsConnection,
    private readonly subs: NatsSubscription[],
  ) {}

  static async start(prefix: string, streams: readonly string[]): Promise<NatsCounter> {
    const nc = await connect({ servers: NATS_URL, name: 'bench-counter' });
    const counter = new NatsCounter(nc, []);
    const bump = (key: string): void => {
      counter.counts[key] = (counter.counts[key] ?? 0) + 1;
    };
    counter.subs.push(
      nc.subscribe(`${prefix}.>`, {
        callback: (_e, msg) => {
          const subject = msg.subject.slice(prefix.length + 1);
          const kind = subject.startsWith('weft.step.dispatch.')
            ? 'dispatch'
            : subject.startsWith('weft.event.')
              ? 'event'
              : subject.replace(/^weft\./, '').replace(/\./g, '_');
          bump('published');
          bump(`published.${kind}`);
        },
      }),
    );
    for (const stream of streams) {
      counter.subs.push(nc.subscribe(`$JS.ACK.${stream}.>`, { callback: () => bump('acks') }));
      counter.subs.push(nc.subscribe(`$JS.API.CONSUMER.MSG.NEXT.${stream}.>`, { callback: () => bump('pulls') }));
    }
    await nc.flush();
    return counter;
  }

  async close(): Promise<void> {
    for (const sub of this.subs) sub.unsubscribe();
    await this.nc.close();
  }
}
