/**
 * BullMQ 6 on Redis, the peer for "a job queue with flows".
 *
 * - chain (W1, W4): one FlowProducer tree, nested: the last step is the root, the first
 *   the deepest leaf (children run before parents).
 * - fan (W2): a tree cannot share one child between N parents, so the source step is a
 *   job whose task adds the flow `join <- N branches` when it runs (N + 2 jobs in all).
 * - diamond (W3): not a tree. Plain jobs; each task decrements a per-step counter of
 *   every successor (HINCRBY in one MULTI) and adds those that reach zero (our own
 *   fan-in in task code, not atomic with BullMQ's completion of the job).
 *
 * Redis is reached through bench/peers/resp-redis.client.ts (ioredis is not installed).
 * Completed jobs are kept (BullMQ's default); keys are deleted at teardown.
 */
import { FlowProducer, type FlowJob, type Job, Queue, RedisConnection, Worker } from 'bullmq';
import { RespRedisClient } from '../peers/resp-redis.client';
import { pidsNamed, type ProcessGroups } from '../lib/proc-cpu.util';
import { type BenchSystem, chainOrder, type RunOutcome, type Shape, type StepTiming } from '../lib/system.port';

RedisConnection.clientFactory = (opts) => new RespRedisClient(opts);

const CONNECTION = { host: '127.0.0.1', port: 6379 };

interface StepData {
  run: string;
  id: string;
  kind: Shape['kind'];
  /** fan: branch count; diamond: layer of this step. */
  width?: number;
  layer?: number;
  layers?: number;
  /** The step whose completion finishes the run. */
  last?: boolean;
}

interface Waiter {
  submittedAt: number;
  timings?: StepTiming[];
  /** Final steps still to complete. */
  remaining: number;
  resolve(outcome: RunOutcome): void;
}

export class BullmqSystem implements BenchSystem {
  readonly name = 'bullmq';
  private readonly prefix = `bench${process.pid}`;
  private readonly queueName = 'steps';
  private worker: Worker<StepData> | undefined;
  private flows: FlowProducer | undefined;
  private queue: Queue<StepData> | undefined;
  private redis: RespRedisClient | undefined;
  private readonly waiters = new Map<string, Waiter>();
  private seq = 0;

  constructor(private readonly concurrency: number) {}

  private client(): RespRedisClient {
    if (!this.redis) throw new Error('not set up');
    return this.redis;
  }

  async setup(): Promise<void> {
    this.redis = new RespRedisClient(CONNECTION);
    await this.redis.connect();
    this.queue = new Queue<StepData>(this.queueName, { connection: CONNECTION, prefix: this.prefix });
    this.flows = new FlowProducer({ connection: CONNECTION, prefix: this.prefix });
    this.worker = new Worker<StepData>(this.queueName, (job) => this.process(job), {
      connection: CONNECTION,
      prefix: this.prefix,
      concurrency: this.concurrency,
    });
    this.worker.on('completed', (job: Job<StepData>) => this.completed(job.data));
    this.worker.on('error', (error) => console.error('[bullmq worker]', error));
    await Promise.all([this.queue.waitUntilReady(), this.flows.waitUntilReady(), this.worker.waitUntilReady()]);
  }

  /** The worker runs in this process; its jobs live in Redis. */
  async processes(): Promise<ProcessGroups> {
    return { 'redis-server': pidsNamed('redis-server') };
  }

  async durability(): Promise<Record<string, string>> {
    const get = async (key: string) => {
      const reply = await this.client().call('CONFIG', 'GET', key);
      return Array.isArray(reply) ? String(reply[1]) : '?';
    };
    return {
      redis: `appendonly=${await get('appendonly')}, appendfsync=${await get('appendfsync')}, save="${await get('save')}" (no persistence: a crash loses everything)`,
      client: 'bench RESP2 adapter (ioredis not installed)',
    };
  }

  async counters(): Promise<Record<string, number>> {
    const info = String(await this.client().call('INFO', 'stats'));
    const total = /total_commands_processed:(\d+)/.exec(info)?.[1];
    return { 'redis.commands': Number(total ?? Number.NaN) };
  }

  async start(shape: Shape, options: { timings?: boolean } = {}): Promise<{ finished: Promise<RunOutcome> }> {
    const run = `r${++this.seq}`;
    const flows = this.flows;
    const queue = this.queue;
    if (!flows || !queue) throw new Error('not set up');
    const finished = new Promise<RunOutcome>((resolve) => {
      this.waiters.set(run, {
        submittedAt: performance.now(),
        remaining: shape.kind === 'diamond' ? shape.width : 1,
        resolve,
        ...(options.timings && { timings: [] }),
      });
    });
    switch (shape.kind) {
      case 'chain': {
        let tree: FlowJob = { name: 's0', queueName: this.queueName, data: { run, id: 's0', kind: 'chain' } satisfies StepData };
        for (let i = 1; i < shape.steps; i++) {
          const data: StepData = { run, id: `s${i}`, kind: 'chain', ...(i === shape.steps - 1 && { last: true }) };
          tree = { name: `s${i}`, queueName: this.queueName, data, children: [tree] };
        }
        await flows.add(tree);
        break;
      }
      case 'fan':
        await queue.add('src', { run, id: 'src', kind: 'fan', width: shape.width });
        break;
      case 'diamond': {
        const counters: Record<string, number> = {};
        for (let l = 1; l < shape.layers; l++) for (let i = 0; i < shape.width; i++) counters[`l${l}_${i}`] = shape.width;
        await this.client().hset(`${this.prefix}:fanin:${run}`, counters);
        await queue.addBulk(
          Array.from({ length: shape.width }, (_, i) => ({
            name: `l0_${i}`,
            data: { run, id: `l0_${i}`, kind: 'diamond', layer: 0, layers: shape.layers, width: shape.width },
          })),
        );
        break;
      }
      case 'sleeper':
      case 'flat':
      case 'foreach':
        throw new Error(`${shape.kind} runs are measured on Weft only`);
    }
    return { finished };
  }

  private async process(job: Job<StepData>): Promise<void> {
    const start = performance.now();
    const data = job.data;
    // The no-op body; DAG logic below is what a BullMQ user writes for these shapes.
    if (data.kind === 'fan' && data.id === 'src') {
      const width = data.width ?? 0;
      const flows = this.flows;
      if (!flows) throw new Error('not set up');
      await flows.add({
        name: 'join',
        queueName: this.queueName,
        data: { run: data.run, id: 'join', kind: 'fan', last: true } satisfies StepData,
        children: Array.from({ length: width }, (_, i) => ({
          name: `b_${i}`,
          queueName: this.queueName,
          data: { run: data.run, id: `b_${i}`, kind: 'fan' } satisfies StepData,
        })),
      });
    } else if (data.kind === 'diamond' && (data.layer ?? 0) < (data.layers ?? 0) - 1) {
      await this.fanIn(data);
    }
    this.waiters.get(data.run)?.timings?.push({ id: data.id, start, end: performance.now() });
  }

  /** Decrements every successor's counter; adds the successors that reach zero. */
  private async fanIn(data: StepData): Promise<void> {
    const next = (data.layer ?? 0) + 1;
    const width = data.width ?? 0;
    const ids = Array.from({ length: width }, (_, i) => `l${next}_${i}`);
    const key = `${this.prefix}:fanin:${data.run}`;
    const replies = await this.client().sendMany(ids.map((id) => ['HINCRBY', key, id, -1]));
    const ready = ids.filter((_, i) => replies[i] === 0);
    if (ready.length === 0) return;
    const queue = this.queue;
    if (!queue) throw new Error('not set up');
    const last = next === (data.layers ?? 0) - 1;
    await queue.addBulk(ready.map((id) => ({ name: id, data: { ...data, id, layer: next, ...(last && { last: true }) } })));
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
    await this.worker?.close();
    await this.flows?.close();
    await this.queue?.close();
    const redis = this.redis;
    if (!redis) return;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, { MATCH: `${this.prefix}:*`, COUNT: 1000 });
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
    await redis.quit();
  }
}
