/**
 * One system under test in its own Node process, driven by bench/run.ts over IPC, so
 * the systems never share an event loop or a heap.
 *
 *   fork('bench/system.child.ts', [system, JSON.stringify({ concurrency })])
 */
import { BullmqSystem } from './systems/bullmq.system';
import { GraphileSystem } from './systems/graphile.system';
import { WeftDistributed, WeftEmbedded } from './systems/weft.system';
import type { BenchSystem, Shape } from './lib/system.port';
import { bigRun, type BigRunOptions, cost, forEachMemory, manyRuns, memory, runOnce, sustained, type SustainedOptions } from './lib/workloads';

export const SYSTEM_NAMES = ['weft-embedded', 'weft-distributed', 'bullmq', 'graphile-worker'] as const;
export type SystemName = (typeof SYSTEM_NAMES)[number];

export interface ChildOptions {
  concurrency: number;
  countMessages?: boolean;
  /** weft-distributed's executor: its own process (default) or the scheduler's. */
  executor?: 'process' | 'inline';
  /** weft-distributed: SqlRunStoreOptions.markLingerMs. */
  markLingerMs?: number;
  /** weft-distributed: SqlRunStoreOptions.stateCacheMaxSize. */
  stateCacheMaxSize?: number;
}

export type Request =
  | { op: 'setup' }
  | { op: 'run'; shape: Shape; timings?: boolean }
  | { op: 'sustained'; options: SustainedOptions }
  | { op: 'cost'; shape: Shape; runs: number; idleMs: number }
  | { op: 'memory'; runs: number; sleepMs: number }
  | { op: 'many'; runs: number; steps: number }
  | { op: 'big'; options: BigRunOptions }
  | { op: 'foreach'; items: number; concurrency: number }
  | { op: 'teardown' };

export type Envelope = { id: number; request: Request };
export type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

function create(name: string, options: ChildOptions): BenchSystem {
  switch (name) {
    case 'weft-embedded':
      return new WeftEmbedded(options.concurrency);
    case 'weft-distributed':
      return new WeftDistributed({ concurrency: options.concurrency, countMessages: options.countMessages, executor: options.executor, markLingerMs: options.markLingerMs, stateCacheMaxSize: options.stateCacheMaxSize });
    case 'bullmq':
      return new BullmqSystem(options.concurrency);
    case 'graphile-worker':
      return new GraphileSystem(options.concurrency);
    default:
      throw new Error(`unknown system ${name}`);
  }
}

async function handle(system: BenchSystem, request: Request): Promise<unknown> {
  switch (request.op) {
    case 'setup': {
      await system.setup();
      // Warm-up: JIT, connections, prepared paths.
      await runOnce(system, { kind: 'chain', steps: 10 });
      await runOnce(system, { kind: 'fan', width: 20 });
      await runOnce(system, { kind: 'diamond', layers: 3, width: 3 });
      return system.durability();
    }
    case 'run':
      return runOnce(system, request.shape, request.timings);
    case 'sustained':
      return sustained(system, request.options);
    case 'cost':
      return cost(system, request.shape, request.runs, request.idleMs);
    case 'memory':
      return memory(system, request.runs, request.sleepMs);
    case 'many':
      return manyRuns(system, request.runs, request.steps);
    case 'big':
      return bigRun(system, request.options);
    case 'foreach':
      return forEachMemory(system, request.items, request.concurrency);
    case 'teardown':
      await system.teardown();
      return null;
  }
}

function main(): void {
  const [name = '', json = '{}'] = process.argv.slice(2);
  const system = create(name, JSON.parse(json) as ChildOptions);
  process.on('message', (message: Envelope) => {
    void handle(system, message.request).then(
      (result) => process.send?.({ id: message.id, ok: true, result } satisfies Reply),
      (error: unknown) => process.send?.({ id: message.id, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) } satisfies Reply),
    );
  });
  process.on('disconnect', () => process.exit(0));
}

if (require.main === module) main();
