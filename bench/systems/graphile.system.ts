/**
 * graphile-worker 0.17 on PostgreSQL, the peer for "a job queue in Postgres".
 *
 * graphile-worker has no flows: the DAG lives in task code. Each task enqueues its
 * successors itself: `helpers.addJob` / `addJobs` for successors without other needs
 * (chain, fan-out), and for fan-in one statement that decrements the successors'
 * counters in a table and calls `graphile_worker.add_job` for those reaching zero
 * (one transaction). The job's own completion is graphile-worker's separate
 * `complete_job` call after the task returns (default settings: no batching, no local queue).
 */
import { EventEmitter } from 'node:events';
import { type JobHelpers, Logger, run, type Runner, type WorkerEvents } from 'graphile-worker';
import pg from 'pg';
import { adminQuery, countPgQueries, pgCounters, pgUrl } from '../lib/pg.util';
import { backendPids, type ProcessGroups } from '../lib/proc-cpu.util';
import { type BenchSystem, chainOrder, type RunOutcome, type Shape, type StepTiming } from '../lib/system.port';

interface StepData {
  run: string;
  id: string;
  kind: Shape['kind'];
  /** chain: index and length. */
  index?: number;
  steps?: number;
  width?: number;
  layer?: number;
  layers?: number;
  last?: boolean;
}

interface Waiter {
  submittedAt: number;
  timings?: StepTiming[];
  remaining: number;
  resolve(outcome: RunOutcome): void;
}

const silent = new Logger(() => () => undefined);

export class GraphileSystem implements BenchSystem {
  readonly name = 'graphile-worker';
  readonly database = `bench_graphile_${process.pid}`;
  private runner: Runner | undefined;
  /** The harness's own connections: counters, root jobs. */
  private pool: pg.Pool | undefined;
  private workerPool: pg.Pool | undefined;
  private readonly waiters = new Map<string, Waiter>();
  private seq = 0;
  private readonly pgCalls = countPgQueries();

  constructor(private readonly concurrency: number) {}

  private active(): Runner {
    if (!this.runner) throw new Error('not set up');
    return this.runner;
  }

  private async sql(text: string, params: unknown[] = []): Promise<void> {
    if (!this.pool) throw new Error('not set up');
    await this.pool.query(text, params);
  }

  async setup(): Promise<void> {
    await adminQuery(`DROP DATABASE IF EXISTS ${this.database} WITH (FORCE)`);
    await adminQuery(`CREATE DATABASE ${this.database}`);
    const events: WorkerEvents = new EventEmitter();
    events.on('job:complete', ({ job, error }) => {
      if (error === undefined || error === null) this.completed(job.payload as StepData);
    });
    // Our own pool, so teardown can end it (and ignore the errors of connections DROP DATABASE kills).
    this.workerPool = new pg.Pool({ connectionString: pgUrl(this.database), max: this.concurrency + 2 });
    this.workerPool.on('error', () => undefined);
    this.workerPool.on('connect', (client) => client.on('error', () => undefined));
    this.runner = await run({
      // One connection per concurrent job plus the listener and a spare.
      pgPool: this.workerPool,
      concurrency: this.concurrency,
      noHandleSignals: true,
      logger: silent,
      events,
      taskList: { step: (payload, helpers) => this.step(payload as StepData, helpers) },
    });
    this.pool = new pg.Pool({ connectionString: pgUrl(this.database), max: 4 });
    this.pool.on('error', () => undefined);
    await this.sql('CREATE TABLE IF NOT EXISTS bench_fanin (run text NOT NULL, step text NOT NULL, remaining int NOT NULL, PRIMARY KEY (run, step))');
  }

  async durability(): Promise<Record<string, string>> {
    const rows = await adminQuery<{ name: string; setting: string }>(
      `SELECT name, setting FROM pg_settings WHERE name IN ('synchronous_commit', 'fsync', 'wal_sync_method', 'commit_delay') ORDER BY name`,
    );
    return { postgres: rows.map((r) => `${r.name}=${r.setting}`).join(', '), settings: 'graphile-worker defaults (LISTEN/NOTIFY, no local queue, no completion batching)' };
  }

  /** The worker runs in this process; its jobs live in PostgreSQL. */
  async processes(): Promise<ProcessGroups> {
    return { postgres: await backendPids(this.database) };
  }

  async counters(): Promise<Record<string, number>> {
    const pgStats = await pgCounters(this.database);
    return {
      'pgstat.commits': pgStats.commits,
      'pgstat.rollbacks': pgStats.rollbacks,
      'pgstat.walBytes': pgStats.walBytes,
      ...Object.fromEntries(Object.entries(this.pgCalls()).map(([k, v]) => [`pg.${k}`, v])),
    };
  }

  async start(shape: Shape, options: { timings?: boolean } = {}): Promise<{ finished: Promise<RunOutcome> }> {
    const runId = `r${process.pid}_${++this.seq}`;
    const finished = new Promise<RunOutcome>((resolve) => {
      this.waiters.set(runId, {
        submittedAt: performance.now(),
        remaining: shape.kind === 'diamond' ? shape.width : 1,
        resolve,
        ...(options.timings && { timings: [] }),
      });
    });
    const runner = this.active();
    switch (shape.kind) {
      case 'chain':
        await runner.addJob('step', { run: runId, id: 's0', kind: 'chain', index: 0, steps: shape.steps, last: shape.steps === 1 } satisfies StepData);
        break;
      case 'fan':
        await this.sql('INSERT INTO bench_fanin (run, step, remaining) VALUES ($1, $2, $3)', [runId, 'join', shape.width]);
        await runner.addJob('step', { run: runId, id: 'src', kind: 'fan', width: shape.width } satisfies StepData);
        break;
      case 'diamond':
        await this.sql(
          `INSERT INTO bench_fanin (run, step, remaining)
           SELECT $1, 'l' || l || '_' || i, $3 FROM generate_series(1, $2 - 1) AS l, generate_series(0, $3 - 1) AS i`,
          [runId, shape.layers, shape.width],
        );
        await this.sql(`SELECT graphile_worker.add_job('step', p) FROM json_array_elements($1::json) AS p`, [
          JSON.stringify(
            Array.from({ length: shape.width }, (_, i) => ({ run: runId, id: `l0_${i}`, kind: 'diamond', layer: 0, layers: shape.layers, width: shape.width }) satisfies StepData),
          ),
        ]);
        break;
      case 'sleeper':
      case 'flat':
      case 'foreach':
        throw new Error(`${shape.kind} runs are measured on Weft only`);
    }
    return { finished };
  }

  private async step(data: StepData, helpers: JobHelpers): Promise<void> {
    const start = performance.now();
    // The no-op body; the rest is the DAG logic a graphile-worker user writes.
    switch (data.kind) {
      case 'chain': {
        const index = data.index ?? 0;
        const steps = data.steps ?? 1;
        if (index + 1 < steps) {
          await helpers.addJob('step', { ...data, id: `s${index + 1}`, index: index + 1, last: index + 2 === steps } satisfies StepData);
        }
        break;
      }
      case 'fan':
        if (data.id === 'src') {
          await helpers.addJobs(
            Array.from({ length: data.width ?? 0 }, (_, i) => ({ identifier: 'step', payload: { run: data.run, id: `b_${i}`, kind: 'fan' } satisfies StepData })),
          );
        } else if (data.id !== 'join') {
          await this.fanIn(helpers, data.run, ['join'], () => ({ run: data.run, id: 'join', kind: 'fan', last: true }));
        }
        break;
      case 'diamond': {
        const layer = data.layer ?? 0;
        const layers = data.layers ?? 0;
        if (layer + 1 < layers) {
          const ids = Array.from({ length: data.width ?? 0 }, (_, i) => `l${layer + 1}_${i}`);
          await this.fanIn(helpers, data.run, ids, (id) => ({ ...data, id, layer: layer + 1, last: layer + 2 === layers }));
        }
        break;
      }
      case 'sleeper':
      case 'flat':
      case 'foreach':
        break;
    }
    this.waiters.get(data.run)?.timings?.push({ id: data.id, start, end: performance.now() });
  }

  /** One statement, so one transaction: decrement the successors' counters, add the ones that reach zero. */
  private async fanIn(helpers: JobHelpers, runId: string, successors: string[], payload: (id: string) => StepData): Promise<void> {
    const payloads = Object.fromEntries(successors.map((id) => [id, payload(id)]));
    await helpers.query(
      `WITH dec AS (
         UPDATE bench_fanin SET remaining = remaining - 1
         WHERE run = $1 AND step IN (SELECT jsonb_object_keys($2::jsonb))
         RETURNING step, remaining)
       SELECT graphile_worker.add_job('step', ($2::jsonb -> dec.step)::json) FROM dec WHERE dec.remaining = 0`,
      [runId, JSON.stringify(payloads)],
    );
  }

  private completed(data: StepData): void {
    if (!data.last) return;
    const waiter = this.waiters.get(data.run);
    if (!waiter) return;
    waiter.remaining -= 1;
    if (waiter.remaining > 0) return;
    this.waiters.delete(data.run);
    waiter.resolve({ submittedAt: waiter.submittedAt, finishedAt: performance.now(), ...(waiter.timings && { steps: chainOrder(waiter.timings) }) });
  }

  async teardown(): Promise<void> {
    await this.runner?.stop();
    await this.pool?.end();
    await this.workerPool?.end();
    await adminQuery(`DROP DATABASE IF EXISTS ${this.database} WITH (FORCE)`);
  }
}
