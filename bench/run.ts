/**
 * Weft side by side with BullMQ and graphile-worker, one command, one machine, one run.
 *
 *   node -r @swc-node/register bench/run.ts [--quick] [--only W1,W2,W3,W4,W5,W6,cost,memory,foreach,scale]
 *        [--reps 5] [--warmup 3] [--w4-seconds 60] [--w4-rate 40] [--w4-warm-seconds 5] [--systems weft-embedded,weft-distributed,bullmq,graphile-worker]
 *        [--concurrency 16] [--w5-runs 10000] [--w6-steps 50000] [--w6-rate 10] [--w6-warm-seconds 3] [--executor process|inline]
 *        [--foreach-items 1000,10000] [--foreach-concurrency 100]
 *        [--out bench/results/<date>.md] [--cpu-prof [system,...]]
 *
 * Each system lives in its own child process (bench/system.child.ts); workloads run
 * alternately (A, B, C, D, then again) so drifting machine load hits every system alike.
 * Prints the tables and writes them, with the environment, to bench/results/<date>.md.
 * See docs/benchmarks.md.
 */
import { type ChildProcess, execFileSync, fork, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect } from '@nats-io/transport-node';
import { RespRedisClient } from './peers/resp-redis.client';
import { adminQuery } from './lib/pg.util';
import { stepCount, type Shape } from './lib/system.port';
import { describePerStep } from './lib/proc-cpu.util';
import { fmt, fmtSpread, median, quantile, spread, within } from './lib/stats.util';
import type { BigRunResult, CostResult, ForEachMemoryResult, MakespanResult, ManyRunsResult, MemoryResult, SustainedResult } from './lib/workloads';
import { type ChildOptions, type Envelope, type Reply, type Request, SYSTEM_NAMES, type SystemName } from './system.child';

const WORKLOADS = ['W1', 'W2', 'W3', 'W4', 'W5', 'W6', 'cost', 'memory', 'foreach', 'scale'] as const;
type Workload = (typeof WORKLOADS)[number];

interface Options {
  quick: boolean;
  only: Set<Workload>;
  systems: SystemName[];
  reps: number;
  /**
   * Unmeasured reps of each of W1-W3 per system before its measured reps (alternated like them):
   * 3, or 0 with --quick. The setup's small warm-up (33 steps) leaves an in-process engine's step
   * path to the interpreter for its first 2-3 W2 reps (docs/benchmarks.md, "Embedded W2, session 7");
   * results before 2026-12-06's session 7 were taken with 0 (`--warmup 0`).
   */
  warmup: number;
  w4Seconds: number;
  w4Rate: number;
  w4Steps: number;
  /** Unmeasured seconds of W4's load first, in the same child: `--only W4` otherwise measures a cold process's first seconds. */
  w4WarmSeconds: number;
  concurrency: number;
  memoryRuns: number;
  /** forEach memory: item counts, one run each (the last is the one that matters; the first is the baseline). */
  foreachItems: number[];
  foreachConcurrency: number;
  w5Runs: number;
  w6Steps: number;
  w6Rate: number;
  w6QuietSeconds: number;
  w6WarmSeconds: number;
  /** weft-distributed's executor: its own process (as deployed) or the scheduler's. */
  executor: 'process' | 'inline';
  /** weft-distributed's SqlRunStoreOptions.markLingerMs; unset: the store's default. */
  markLingerMs: number | undefined;
  /** weft-distributed's SqlRunStoreOptions.stateCacheMaxSize (1000: no growth, as before 2026-12-06 session 7); unset: the store's default. */
  stateCacheMaxSize: number | undefined;
  out: string | undefined;
  /** Systems whose child runs with --cpu-prof. */
  cpuProf: string[];
}

function parseArgs(argv: string[]): Options {
  const flags = new Map<string, string>();
  const bool = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}`);
    const [key, inline] = arg.slice(2).split('=', 2);
    if (inline !== undefined) flags.set(key, inline);
    else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) flags.set(key, argv[++i]);
    else bool.add(key);
  }
  const quick = bool.has('quick');
  const num = (key: string, fallback: number): number => {
    const value = flags.get(key);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!(n > 0)) throw new Error(`--${key} must be a positive number, got ${value}`);
    return n;
  };
  const list = <T extends string>(key: string, allowed: readonly T[], fallback: readonly T[]): T[] => {
    const value = flags.get(key);
    if (value === undefined) return [...fallback];
    const items = value.split(',').map((s) => s.trim());
    for (const item of items) if (!(allowed as readonly string[]).includes(item)) throw new Error(`--${key}: unknown ${item} (one of ${allowed.join(', ')})`);
    return items as T[];
  };
  return {
    quick,
    only: new Set(list('only', WORKLOADS, WORKLOADS)),
    systems: list('systems', SYSTEM_NAMES, SYSTEM_NAMES),
    reps: num('reps', quick ? 1 : 5),
    warmup: flags.get('warmup') === '0' ? 0 : num('warmup', quick ? 0 : 3),
    w4Seconds: num('w4-seconds', quick ? 5 : 60),
    w4Rate: num('w4-rate', 40),
    w4Steps: num('w4-steps', 5),
    w4WarmSeconds: num('w4-warm-seconds', quick ? 1 : 5),
    concurrency: num('concurrency', 16),
    memoryRuns: num('memory-runs', quick ? 500 : 10_000),
    foreachItems: (flags.get('foreach-items') ?? (quick ? '100,1000' : '1000,10000')).split(',').map(Number),
    foreachConcurrency: num('foreach-concurrency', 100),
    w5Runs: num('w5-runs', quick ? 500 : 10_000),
    w6Steps: num('w6-steps', quick ? 2000 : 50_000),
    w6Rate: num('w6-rate', 10),
    w6QuietSeconds: num('w6-quiet-seconds', quick ? 3 : 10),
    w6WarmSeconds: num('w6-warm-seconds', quick ? 1 : 3),
    executor: list('executor', ['process', 'inline'] as const, ['process'])[0],
    markLingerMs: flags.has('mark-linger-ms') ? Number(flags.get('mark-linger-ms')) : undefined,
    stateCacheMaxSize: flags.has('state-cache-max') ? num('state-cache-max', 1000) : undefined,
    out: flags.get('out'),
    cpuProf: bool.has('cpu-prof') ? ['weft-distributed'] : (flags.get('cpu-prof')?.split(',') ?? []),
  };
}

/** A system's child process and a tiny request/response protocol over IPC. */
class Child {
  private seq = 0;
  private readonly pending = new Map<number, (reply: Reply) => void>();

  private constructor(
    readonly name: SystemName,
    private readonly proc: ChildProcess,
  ) {
    proc.on('message', (reply: Reply) => {
      this.pending.get(reply.id)?.(reply);
      this.pending.delete(reply.id);
    });
    proc.on('exit', (code) => {
      for (const [id, resolve] of this.pending) resolve({ id, ok: false, error: `${name} exited with ${code}` });
      this.pending.clear();
    });
  }

  static spawn(name: SystemName, options: ChildOptions, extraExecArgv: string[] = []): Child {
    // BENCH_CHILD_NODE_ARGS: node flags for every system's process (diagnostics, e.g. "--trace-gc").
    const fromEnv = process.env.BENCH_CHILD_NODE_ARGS?.split(' ').filter((arg) => arg !== '') ?? [];
    const proc = fork(path.join(__dirname, 'system.child.ts'), [name, JSON.stringify(options)], {
      execArgv: ['-r', '@swc-node/register', '--expose-gc', ...fromEnv, ...extraExecArgv],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new Child(name, proc);
  }

  async call<T>(request: Request, timeoutMs: number): Promise<T> {
    const id = ++this.seq;
    const reply = await within(
      timeoutMs,
      `${this.name} ${request.op}`,
      new Promise<Reply>((resolve) => {
        this.pending.set(id, resolve);
        this.proc.send({ id, request } satisfies Envelope);
      }),
    );
    if (!reply.ok) throw new Error(`${this.name} ${request.op} failed: ${reply.error}`);
    return reply.result as T;
  }

  /** Tears the system down (databases, streams, keys), then ends the process. */
  async close(): Promise<void> {
    if (this.proc.exitCode !== null || !this.proc.connected) return;
    try {
      await this.call({ op: 'teardown' }, 120_000);
    } catch (error) {
      console.error(`teardown of ${this.name}:`, error instanceof Error ? error.message : error);
    }
    const exited = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
    if (this.proc.connected) this.proc.disconnect();
    await within(30_000, `${this.name} exit`, exited).catch(() => this.proc.kill('SIGKILL'));
  }
}

const shapes = (quick: boolean) => ({
  W1: { kind: 'chain', steps: quick ? 20 : 100 } satisfies Shape,
  W2: { kind: 'fan', width: quick ? 100 : 1000 } satisfies Shape,
  W3: { kind: 'diamond', layers: 10, width: 10 } satisfies Shape,
});

interface Results {
  durability: Map<string, Record<string, string>>;
  makespan: Map<string, Map<string, MakespanResult[]>>;
  sustained: Map<string, SustainedResult>;
  cost: Map<string, { shape: Shape; result: CostResult }[]>;
  memory: Map<string, MemoryResult>;
  foreach: Map<string, ForEachMemoryResult[]>;
  many: Map<string, ManyRunsResult>;
  big: Map<string, BigRunResult>;
  scale: string | undefined;
  errors: string[];
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const env = await environment();
  const started = new Date();
  const t0 = performance.now();
  const results: Results = {
    durability: new Map(),
    makespan: new Map(),
    sustained: new Map(),
    cost: new Map(),
    memory: new Map(),
    foreach: new Map(),
    many: new Map(),
    big: new Map(),
    scale: undefined,
    errors: [],
  };
  const children: Child[] = [];
  const onSignal = () => {
    console.error('interrupted: tearing down');
    void Promise.allSettled(children.map((c) => c.close())).then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  const log = (message: string) => console.log(`[${((performance.now() - t0) / 1000).toFixed(0).padStart(4)}s] ${message}`);
  const sh = shapes(options.quick);
  const childOptions: ChildOptions = {
    concurrency: options.concurrency,
    executor: options.executor,
    ...(options.markLingerMs !== undefined && { markLingerMs: options.markLingerMs }),
    ...(options.stateCacheMaxSize !== undefined && { stateCacheMaxSize: options.stateCacheMaxSize }),
  };

  try {
    const timed = ['W1', 'W2', 'W3', 'W4'].some((w) => options.only.has(w as Workload));
    if (timed) {
      for (const name of options.systems) {
        log(`setting up ${name}`);
        const extra = options.cpuProf.includes(name) ? ['--cpu-prof', `--cpu-prof-dir=${path.join(os.tmpdir(), 'weft-bench-prof')}`] : [];
        const child = Child.spawn(name, childOptions, extra);
        children.push(child);
        results.durability.set(name, await child.call({ op: 'setup' }, 180_000));
      }
      for (const workload of ['W1', 'W2', 'W3'] as const) {
        if (!options.only.has(workload)) continue;
        const byName = new Map<string, MakespanResult[]>();
        results.makespan.set(workload, byName);
        // The first `warmup` reps are run and logged the same way, and not counted.
        for (let rep = 0; rep < options.warmup + options.reps; rep++) {
          const counted = rep >= options.warmup;
          const label = counted ? `rep ${rep - options.warmup + 1}/${options.reps}` : `warm-up ${rep + 1}/${options.warmup}`;
          for (let k = 0; k < children.length; k++) {
            const child = children[(k + rep) % children.length];
            try {
              const r = await child.call<MakespanResult>({ op: 'run', shape: sh[workload], timings: counted && workload === 'W1' }, 300_000);
              if (counted) byName.set(child.name, [...(byName.get(child.name) ?? []), r]);
              log(`${workload} ${label} ${child.name}: ${fmt(r.makespanMs)} ms${counted ? '' : ' (not counted)'}`);
            } catch (error) {
              const what = counted ? '' : ' (warm-up)';
              results.errors.push(`${workload} ${child.name}${what}: ${String(error)}`);
              log(`${workload} ${child.name}${what} failed: ${String(error)}`);
            }
          }
        }
      }
      if (options.only.has('W4')) {
        for (const child of children) {
          log(`W4 ${child.name}: ${options.w4Rate} runs/s of ${options.w4Steps}-step chains for ${options.w4Seconds}s`);
          const sustain = (seconds: number) =>
            child.call<SustainedResult>({ op: 'sustained', options: { rate: options.w4Rate, seconds, steps: options.w4Steps, drainMs: 60_000 } }, (seconds + 120) * 1000);
          try {
            if (options.w4WarmSeconds > 0) {
              const warm = await sustain(options.w4WarmSeconds);
              log(`  warm-up ${options.w4WarmSeconds}s (not counted): p99 ${fmt(warm.latencyP99Ms)} ms, backlog ${warm.backlogAtEnd}`);
            }
            const r = await sustain(options.w4Seconds);
            results.sustained.set(child.name, r);
            log(`  ${fmt(r.stepsPerSec)} steps/s, p50 ${fmt(r.latencyP50Ms)} ms, p99 ${fmt(r.latencyP99Ms)} ms, backlog ${r.backlogAtEnd}`);
          } catch (error) {
            results.errors.push(`W4 ${child.name}: ${String(error)}`);
          }
        }
      }
      for (const child of children.splice(0)) {
        log(`tearing down ${child.name}`);
        await child.close();
      }
    }

    // W5 and W6 each take the machine for a while: one system at a time, each in a fresh child.
    const alone = async (workload: 'W5' | 'W6', names: readonly SystemName[], work: (child: Child) => Promise<void>): Promise<void> => {
      if (!options.only.has(workload)) return;
      for (const name of names) {
        const child = Child.spawn(name, childOptions);
        children.push(child);
        try {
          const durability = await child.call<Record<string, string>>({ op: 'setup' }, 180_000);
          if (!results.durability.has(name)) results.durability.set(name, durability);
          await work(child);
        } catch (error) {
          results.errors.push(`${workload} ${name}: ${String(error)}`);
          log(`${workload} ${name} failed: ${String(error)}`);
        }
        await child.close();
        children.splice(children.indexOf(child), 1);
      }
    };
    await alone('W5', options.systems, async (child) => {
      log(`W5 ${child.name}: ${options.w5Runs} 3-step chains at once`);
      const r = await child.call<ManyRunsResult>({ op: 'many', runs: options.w5Runs, steps: 3 }, 1_800_000);
      results.many.set(child.name, r);
      log(`  ${fmt(r.stepsPerSec)} steps/s, makespan ${fmt(r.makespanMs / 1000, 1)} s, RSS peak ${fmt(r.rssPeakMb)} MB`);
    });
    await alone(
      'W6',
      options.systems.filter((n) => n.startsWith('weft')),
      async (child) => {
        log(`W6 ${child.name}: a ${options.w6Steps}-step run beside ${options.w6Rate} runs/s of 5-step chains`);
        const r = await child.call<BigRunResult>(
          { op: 'big', options: { steps: options.w6Steps, rate: options.w6Rate, smallSteps: 5, quietSeconds: options.w6QuietSeconds, warmSeconds: options.w6WarmSeconds, maxSeconds: 900 } },
          2_400_000,
        );
        results.big.set(child.name, r);
        log(`  big run ${fmt(r.bigStepsPerSec)} steps/s, small p99 ${fmt(r.beside.latencyP99Ms)} ms (quiet ${fmt(r.quiet.latencyP99Ms)}), cancel ${fmt(r.cancelMs)} ms`);
      },
    );

    if (options.only.has('cost')) {
      const costShapes: { shape: Shape; runs: number }[] = [
        { shape: sh.W1, runs: 3 },
        { shape: sh.W2, runs: 1 },
      ];
      for (const name of options.systems.filter((n) => n !== 'weft-embedded')) {
        log(`cost: ${name}`);
        const child = Child.spawn(name, { ...childOptions, countMessages: true });
        children.push(child);
        try {
          const durability = await child.call<Record<string, string>>({ op: 'setup' }, 180_000);
          if (!results.durability.has(name)) results.durability.set(name, durability);
          for (const { shape, runs } of costShapes) {
            const result = await child.call<CostResult>({ op: 'cost', shape, runs, idleMs: 5000 }, 600_000);
            results.cost.set(name, [...(results.cost.get(name) ?? []), { shape, result }]);
          }
        } catch (error) {
          results.errors.push(`cost ${name}: ${String(error)}`);
        }
        await child.close();
        children.splice(children.indexOf(child), 1);
      }
    }

    if (options.only.has('memory')) {
      for (const name of options.systems.filter((n) => n.startsWith('weft'))) {
        log(`memory: ${name}, ${options.memoryRuns} runs waiting on a 10-minute first step`);
        const child = Child.spawn(name, childOptions);
        children.push(child);
        try {
          await child.call({ op: 'setup' }, 180_000);
          results.memory.set(name, await child.call<MemoryResult>({ op: 'memory', runs: options.memoryRuns, sleepMs: 600_000 }, 900_000));
        } catch (error) {
          results.errors.push(`memory ${name}: ${String(error)}`);
        }
        await child.close();
        children.splice(children.indexOf(child), 1);
      }
    }

    if (options.only.has('foreach')) {
      for (const name of options.systems.filter((n) => n.startsWith('weft'))) {
        // A fresh child per size: one run's leftovers (JIT, caches) do not count for the next.
        for (const items of options.foreachItems) {
          log(`foreach: ${name}, one run of ${items} items, ${options.foreachConcurrency} in flight`);
          const child = Child.spawn(name, childOptions);
          children.push(child);
          try {
            await child.call({ op: 'setup' }, 180_000);
            const result = await child.call<ForEachMemoryResult>({ op: 'foreach', items, concurrency: options.foreachConcurrency }, 900_000);
            results.foreach.set(name, [...(results.foreach.get(name) ?? []), result]);
          } catch (error) {
            results.errors.push(`foreach ${name} ${items}: ${String(error)}`);
          }
          await child.close();
          children.splice(children.indexOf(child), 1);
        }
      }
    }

    if (options.only.has('scale')) {
      log('scale: validateSpec + topologicalOrder at 1k, 10k, 100k steps');
      results.scale = await runScale(options.quick ? ['1000', '10000'] : []);
    }
  } finally {
    await Promise.allSettled(children.map((c) => c.close()));
  }

  const finished = new Date();
  const report = render(options, env, results, started, finished, await otherPgLoad(env.pgCommitsAtStart, env.pgWalAtStart));
  console.log(`\n${report}`);
  const out = options.out ?? path.join(__dirname, 'results', `${started.toISOString().slice(0, 10)}${options.quick ? '-quick' : ''}.md`);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, report);
  log(`wrote ${path.relative(process.cwd(), out)}`);
  if (results.errors.length > 0) process.exitCode = 1;
}

async function runScale(sizes: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['-r', '@swc-node/register', path.join(__dirname, 'scale.ts'), ...sizes], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const timer = setTimeout(() => proc.kill('SIGKILL'), 600_000);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out.trimEnd());
      else reject(new Error(`bench/scale.ts exited with ${code}`));
    });
  });
}

interface Environment {
  cpu: string;
  cpus: number;
  loadStart: number[];
  node: string;
  postgres: string;
  redis: string;
  nats: string;
  bullmq: string;
  graphile: string;
  git: string;
  pgCommitsAtStart: number;
  pgWalAtStart: number;
}

async function environment(): Promise<Environment> {
  const pgVersion = await adminQuery<{ server_version: string }>('SHOW server_version').then((r) => r[0]?.server_version ?? '?');
  const [pgLoad] = await adminQuery<{ commits: string; wal: string }>(
    `SELECT sum(xact_commit)::text AS commits, (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::text AS wal FROM pg_stat_database WHERE datname NOT LIKE 'bench\\_%'`,
  );
  const redis = new RespRedisClient({ host: '127.0.0.1', port: 6379 });
  const info = await redis.info();
  await redis.quit();
  const nc = await connect({ servers: 'nats://127.0.0.1:4222', name: 'bench-env' });
  const natsVersion = nc.info?.version ?? '?';
  await nc.close();
  const git = (args: string[]) => execFileSync('git', args, { encoding: 'utf8' }).trim();
  const dirty = git(['status', '--porcelain', '--', 'libs', 'services']).split('\n').filter(Boolean).length;
  return {
    cpu: os.cpus()[0]?.model ?? '?',
    cpus: os.cpus().length,
    loadStart: os.loadavg(),
    node: process.version,
    postgres: pgVersion,
    redis: /redis_version:(\S+)/.exec(info)?.[1] ?? '?',
    nats: natsVersion,
    bullmq: packageVersion('bullmq'),
    graphile: packageVersion('graphile-worker'),
    git: `${git(['rev-parse', '--short', 'HEAD'])}${dirty > 0 ? ` + ${dirty} uncommitted file(s) in libs/ and services/ (shared checkout)` : ''}`,
    pgCommitsAtStart: Number(pgLoad?.commits ?? 0),
    pgWalAtStart: Number(pgLoad?.wal ?? 0),
  };
}

function packageVersion(name: string): string {
  return (JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string }).version;
}

/** Commits in databases other than ours during the run: the other engineers' load on the shared server. */
async function otherPgLoad(commitsAtStart: number, walAtStart: number): Promise<{ commits: number; walMb: number }> {
  const [row] = await adminQuery<{ commits: string; wal: string }>(
    `SELECT sum(xact_commit)::text AS commits, (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::text AS wal FROM pg_stat_database WHERE datname NOT LIKE 'bench\\_%'`,
  );
  return { commits: Number(row?.commits ?? 0) - commitsAtStart, walMb: (Number(row?.wal ?? 0) - walAtStart) / 1024 / 1024 };
}

const PEERS = ['bullmq', 'graphile-worker'];

function table(header: string[], rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** Weft/peer ratios of medians, e.g. `0.8x bullmq, 0.3x graphile-worker`. */
function ratios(name: string, value: (n: string) => number | undefined, systems: readonly string[]): string {
  if (!name.startsWith('weft')) return '';
  const mine = value(name);
  if (mine === undefined) return '';
  return PEERS.filter((p) => systems.includes(p))
    .map((p) => {
      const theirs = value(p);
      return theirs === undefined ? `— ${p}` : `${fmt(mine / theirs, 2)}x ${p}`;
    })
    .join(', ');
}

function render(
  options: Options,
  env: Environment,
  results: Results,
  started: Date,
  finished: Date,
  otherLoad: { commits: number; walMb: number },
): string {
  const out: string[] = [];
  const sh = shapes(options.quick);
  const loadEnd = os.loadavg();
  out.push(`# Benchmark results ${started.toISOString().slice(0, 10)}${options.quick ? ' (quick)' : ''}`, '');
  out.push(`Command: \`node -r @swc-node/register bench/run.ts ${process.argv.slice(2).join(' ')}\``, '');
  out.push('## Environment', '');
  out.push(
    table(
      ['what', 'value'],
      [
        ['CPU', `${env.cpu}, ${env.cpus} cores`],
        ['load average (1/5/15 min) at start', env.loadStart.map((l) => l.toFixed(2)).join(' / ')],
        ['load average at end', loadEnd.map((l) => l.toFixed(2)).join(' / ')],
        ['other load on PostgreSQL during the run', `${otherLoad.commits.toLocaleString('en-US')} commits, ${fmt(otherLoad.walMb)} MB WAL in other databases (other engineers' tests)`],
        ['started / finished (UTC)', `${started.toISOString()} / ${finished.toISOString()}`],
        ['Node', env.node],
        ['PostgreSQL / Redis / NATS', `${env.postgres} / ${env.redis} / ${env.nats}`],
        ['bullmq / graphile-worker', `${env.bullmq} / ${env.graphile}`],
        ['Weft', env.git],
        ['settings', `reps ${options.reps}${options.warmup > 0 ? ` after ${options.warmup} unmeasured warm-up reps` : ''}, concurrency ${options.concurrency} per executor/worker, W4 ${options.w4Rate} runs/s x ${options.w4Steps} steps for ${options.w4Seconds} s after ${options.w4WarmSeconds} s unmeasured`],
      ],
    ),
    '',
  );
  out.push('## Durability settings', '');
  out.push(table(['system', 'settings'], [...results.durability].map(([name, d]) => [name, Object.entries(d).map(([k, v]) => `${k}: ${v}`).join('<br>')])), '');

  const labels: Record<'W1' | 'W2' | 'W3', string> = {
    W1: `W1: ${sh.W1.steps}-step chain of no-ops`,
    W2: `W2: 1 -> ${sh.W2.width} -> 1 fan-out/fan-in`,
    W3: `W3: ${sh.W3.layers}x${sh.W3.width} layered diamond (every step needs the whole previous layer)`,
  };
  for (const workload of ['W1', 'W2', 'W3'] as const) {
    const byName = results.makespan.get(workload);
    if (!byName) continue;
    const systems = [...byName.keys()];
    const med = (n: string) => {
      const values = byName.get(n)?.map((r) => r.makespanMs) ?? [];
      return values.length === 0 ? undefined : median(values);
    };
    out.push(`## ${labels[workload]}`, '');
    const header = ['system', 'makespan ms, median (min–max)', 'per step ms'];
    if (workload === 'W1') header.push('hop p50 ms', 'hop p99 ms');
    header.push('Weft / peer (median makespan)');
    const rows = systems.map((name) => {
      const runs = byName.get(name) ?? [];
      const s = spread(runs.map((r) => r.makespanMs));
      const row = [name, fmtSpread(s), fmt(s.median / stepCount(sh[workload]), 2)];
      if (workload === 'W1') {
        const hops = runs.flatMap((r) => r.hopsMs ?? []);
        row.push(fmt(quantile(hops, 0.5), 2), fmt(quantile(hops, 0.99), 2));
      }
      row.push(ratios(name, med, systems));
      return row;
    });
    out.push(table(header, rows), '');
    if (workload === 'W1') {
      out.push('Hop: a step\'s start minus its predecessor\'s end (Weft: the run\'s step records, database clock; peers: timestamps taken in task code), pooled over all reps.', '');
      for (const name of systems) {
        const runs = byName.get(name) ?? [];
        const queued = runs.flatMap((r) => r.queuedToStartMs ?? []);
        const running = runs.flatMap((r) => r.startToEndMs ?? []);
        if (queued.length > 0) {
          out.push(
            `${name} per step (median / p99): dispatch decided -> start recorded ${fmt(quantile(queued, 0.5), 1)} / ${fmt(quantile(queued, 0.99), 1)} ms; ` +
              `start recorded -> end recorded ${fmt(quantile(running, 0.5), 1)} / ${fmt(quantile(running, 0.99), 1)} ms.`,
            '',
          );
        }
      }
    }
  }

  if (results.sustained.size > 0) {
    out.push(`## W4: sustained load, ${options.w4Rate} runs/s of ${options.w4Steps}-step chains for ${options.w4Seconds} s`, '');
    const systems = [...results.sustained.keys()];
    const rows = [...results.sustained].map(([name, r]) => [
      name,
      fmt(r.stepsPerSec),
      fmt(r.offeredStepsPerSec),
      fmt(r.latencyP50Ms),
      fmt(r.latencyP99Ms),
      fmt(r.latencyMaxMs),
      String(r.backlogAtEnd),
      `${fmt(r.drainMsUsed / 1000, 1)} s${r.undrained > 0 ? ` (${r.undrained} never finished)` : ''}`,
      String(r.errors),
      ratios(name, (n) => results.sustained.get(n)?.stepsPerSec, systems),
    ]);
    out.push(
      table(['system', 'steps/s completed', 'offered steps/s', 'e2e p50 ms', 'e2e p99 ms', 'max ms', 'backlog at end (runs)', 'drain', 'errors', 'Weft / peer steps/s'], rows),
      '',
      'Latency: run finished minus its scheduled start time (a late start counts against the system).',
      '',
      ...[...results.sustained].map(
        ([name, r]) =>
          `- ${name}: start call p99 ${fmt(r.startP99Ms ?? Number.NaN)} ms, load generator's start lag max ${fmt(r.maxStartLagMs)} ms; e2e p99 by 5 s of the window ${(r.p99ByWindowMs ?? []).map((v) => fmt(v)).join(' / ')} ms; ` +
          `load-generating process (Weft: also the scheduler) event-loop delay p99 ${fmt(r.loopDelayP99Ms ?? Number.NaN)} ms, max ${fmt(r.loopDelayMaxMs ?? Number.NaN)} ms, CPU ${fmt(r.cpuPercent ?? Number.NaN)} % of a core` +
          (r.cpuMsPerStep ? `; CPU per step completed in the window: ${describePerStep(r.cpuMsPerStep)}` : ''),
      ),
      '',
    );
  }

  if (results.cost.size > 0) {
    out.push('## Cost per step', '');
    const rows: string[][] = [];
    for (const [name, entries] of results.cost) {
      for (const { shape, result } of entries) {
        const d = result.delta;
        const per = (key: string) => (d[key] === undefined ? '—' : fmt(d[key] / result.steps, 2));
        // The delta spans the runs and the settle after them (windowMs): idle polling over all of it.
        const idlePer = (key: string) => (result.idle[key] === undefined ? undefined : (result.idle[key] / result.idleMs) * result.windowMs);
        const net = (key: string) => {
          const idle = idlePer(key);
          return d[key] === undefined || idle === undefined ? '—' : fmt((d[key] - idle) / result.steps, 2);
        };
        const walKb = d['pgstat.walBytes'] === undefined ? '—' : fmt(d['pgstat.walBytes'] / result.steps / 1024, 2);
        rows.push([
          name,
          `${shape.kind} x${result.runs} (${result.steps} steps, ${fmt(result.durationMs / 1000, 1)} s)`,
          per('pgstat.commits'),
          net('pgstat.commits'),
          per('pg.total'),
          walKb,
          per('nats.published'),
          d['nats.acks'] === undefined ? '—' : fmt((2 * (d['nats.published'] ?? 0) + 2 * d['nats.acks'] + (d['nats.pulls'] ?? 0)) / result.steps, 1),
          per('redis.commands'),
        ]);
      }
    }
    out.push(
      table(['system', 'workload', 'PG commits/step', 'net of idle polling', 'PG round trips/step', 'WAL KB/step (cluster-wide)', 'NATS publishes/step', 'NATS wire msgs/step', 'Redis commands/step'], rows),
      '',
      'PG commits: `pg_stat_database.xact_commit` of the system\'s own database (read-only autocommit statements count too), counted over the runs and the 11 s after them (the statistics\' flush), as is every counter below; "net" subtracts the idle rate measured just before over that whole window. ' +
        'Round trips: every pg query call in the process (BEGIN and COMMIT included). WAL: `pg_current_wal_insert_lsn()` delta, cluster-wide, so other engineers\' tests inflate it. ' +
        'NATS wire messages = 2 x publishes (message + PubAck) + 2 x acks (delivery + ack) + pull requests; publishes include the lifecycle events.',
      '',
    );
    for (const [name, entries] of results.cost) {
      for (const { shape, result } of entries) {
        const detail = Object.entries(result.delta)
          .filter(([k, v]) => v !== 0 && !k.startsWith('pgstat.wal'))
          .map(([k, v]) => {
            // Counters that move when idle (the timer scan, the relay) also given net of that, as the commits' net column.
            const idle = result.idle[k] ? (result.idle[k] / result.idleMs) * result.windowMs : 0;
            return `${k} ${fmt(v / result.steps, 2)}${idle > 0 ? ` (net ${fmt((v - idle) / result.steps, 2)})` : ''}`;
          })
          .join(', ');
        out.push(`- ${name} ${shape.kind}, per step (over the runs and the settle after them): ${detail}`);
      }
    }
    out.push('');
  }

  if (results.memory.size > 0) {
    out.push('## Scheduler memory per 10,000 waiting runs', '');
    const rows = [...results.memory].map(([name, m]) => [
      name,
      String(m.runs),
      `${fmt(m.heapBeforeMb)} -> ${fmt(m.heapAfterMb)}`,
      fmt(m.heapDeltaMbPer10k),
      `${fmt(m.rssBeforeMb)} -> ${fmt(m.rssAfterMb)}`,
      fmt(m.rssDeltaMbPer10k),
      fmt(m.startMs / 1000, 1),
    ]);
    out.push(
      table(['system', 'runs', 'heap MB', 'heap MB / 10k runs', 'RSS MB', 'RSS MB / 10k runs', 'time to start them (s)'], rows),
      '',
      'Runs of `sleep 10m -> noop`; the executor (weft-distributed: its own process since 2026-12) holds `concurrency` of them, the rest wait in the broker. Heap after `global.gc()` of the scheduling process.',
      '',
    );
  }

  if (results.foreach.size > 0) {
    out.push('## Scheduler memory during one forEach run', '');
    const rows = [...results.foreach].flatMap(([name, list]) =>
      list.map((r) => {
        const base = list[0];
        const growth = (x: ForEachMemoryResult) => x.liveHeapPeakMb - x.heapBeforeMb;
        return [
          name,
          String(r.items),
          fmt(r.makespanMs / 1000, 1),
          fmt(r.itemsPerSec),
          `${fmt(r.heapBeforeMb)} -> ${fmt(r.liveHeapPeakMb)}`,
          fmt(growth(r)),
          base && base !== r ? `${fmt(growth(r) / Math.max(growth(base), 0.1), 1)}x for ${fmt(r.items / base.items, 0)}x items` : '',
          `${fmt(r.rssBeforeMb)} -> ${fmt(r.rssPeakMb)}`,
          fmt(r.heapAfterMb),
        ];
      }),
    );
    out.push(
      table(['system', 'items', 'makespan s', 'items/s', 'live heap MB (peak)', 'live heap growth MB', 'growth vs first size', 'RSS MB (peak)', 'heap MB after'], rows),
      '',
      `One run of \`each: forEach \${{ inputs.xs }}, concurrency ${options.foreachConcurrency}\` (no-op items) per size, each in a fresh child. Live heap: \`global.gc()\` every second during the run, of the scheduling process (weft-distributed: the scheduler alone). The list itself (the run's input) and the collected outputs are part of the run's state, so some growth with items is expected; bounded means no per-item cost beyond that.`,
      '',
    );
  }

  if (results.many.size > 0) {
    out.push(`## W5: ${options.w5Runs} concurrent 3-step runs`, '');
    const systems = [...results.many.keys()];
    const rows = [...results.many].map(([name, r]) => [
      name,
      fmt(r.stepsPerSec),
      fmt(r.makespanMs / 1000, 1),
      fmt(r.latencyP50Ms),
      fmt(r.latencyP99Ms),
      `${fmt(r.rssBeforeMb)} -> ${fmt(r.rssPeakMb)}`,
      `${fmt(r.heapBeforeMb)} -> ${fmt(r.heapPeakMb)}`,
      String(r.errors),
      ratios(name, (n) => results.many.get(n)?.makespanMs, systems),
    ]);
    out.push(
      table(['system', 'steps/s', 'makespan s', 'run p50 ms', 'run p99 ms', 'RSS MB (peak)', 'heap MB (peak)', 'errors', 'Weft / peer makespan'], rows),
      '',
      'Runs requested 200 at a time without waiting for earlier ones; memory of the process that schedules (weft-distributed: the scheduler alone, its executor is another process; embedded and the peers: everything).',
      '',
    );
  }

  if (results.big.size > 0) {
    out.push(`## W6: a ${options.w6Steps}-step run beside ${options.w6Rate} runs/s of 5-step chains`, '');
    const w2 = results.makespan.get('W2');
    const rows = [...results.big].map(([name, r]) => {
      const w2Ms = w2?.get(name) ? median((w2.get(name) ?? []).map((m) => m.makespanMs)) : undefined;
      const w2PerSec = w2Ms === undefined ? undefined : stepCount(shapes(options.quick).W2) / (w2Ms / 1000);
      return [
        name,
        fmt(r.requestMs),
        fmt(r.bigStepsPerSec),
        w2PerSec === undefined ? '—' : `${fmt(r.bigStepsPerSec / w2PerSec, 2)}x (W2 ${fmt(w2PerSec)})`,
        `${fmt(r.quiet.latencyP99Ms)} -> ${fmt(r.beside.latencyP99Ms)} (${fmt(r.beside.latencyP99Ms / r.quiet.latencyP99Ms, 1)}x)`,
        `${fmt(r.quiet.latencyP50Ms)} -> ${fmt(r.beside.latencyP50Ms)}`,
        `${r.beside.started} / ${r.beside.backlogAtEnd}`,
        fmt(r.cancelMs),
        fmt(r.rssPeakMb),
      ];
    });
    out.push(
      table(
        ['system', 'start request ms', 'big run steps/s', 'vs W2 steps/s (same run)', 'small runs e2e p99 ms: quiet -> beside', 'p50 ms', 'small runs started / unfinished at the end', 'cancel ms', 'RSS peak MB'],
        rows,
      ),
      '',
      `Targets (issue 15): big run >= 0.5x W2's per-step throughput, small runs' p99 <= 2x quiet, cancel < 1000 ms (a second big run, canceled 100 ms after its start request returned). Quiet: ${options.w6QuietSeconds} s of small runs alone, after ${options.w6WarmSeconds} s of them unmeasured (a fresh process's first runs compile its path).`,
      '',
    );
  }

  if (results.scale) out.push('## Scale: validation + topological ordering (bench/scale.ts)', '', '```', results.scale, '```', '');
  if (results.errors.length > 0) out.push('## Errors', '', ...results.errors.map((e) => `- ${e.split('\n')[0]}`), '');
  return out.join('\n');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
