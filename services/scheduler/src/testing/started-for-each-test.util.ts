import { InMemoryBus } from '@weft/bus';
import { type ActionDefinition, builtinActions, createWorker, silentLogger, type Worker, type WorkerOptions } from '@weft/worker';
import { MemoryRunStore } from '../persistence/memory-run.store';
import { Scheduler, type SchedulerOptions } from '../scheduler';

/** An embedded scheduler, its worker and their bus, as a spec builds them. */
export interface EmbeddedParts {
  bus: InMemoryBus;
  scheduler: Scheduler;
  worker: Worker;
}

/**
 * Before each test: what `setup` builds, started (the scheduler, then the worker). After it:
 * stopped in reverse (the worker, the scheduler) and the bus closed.
 */
export function startedForEachTest(setup: () => EmbeddedParts | Promise<EmbeddedParts>): void {
  let parts: EmbeddedParts | undefined;
  beforeEach(async () => {
    parts = await setup();
    await parts.scheduler.start();
    await parts.worker.start();
  });
  afterEach(async () => {
    if (parts === undefined) return;
    const { bus, scheduler, worker } = parts;
    parts = undefined;
    await worker.stop();
    await scheduler.stop();
    await bus.close();
  });
}

/** The parts of memoryShell, with the store the specs read. */
export interface MemoryShell extends EmbeddedParts {
  store: MemoryRunStore;
}

/**
 * The scheduler shell in memory, as the scheduler.*.spec.ts files drive it: an in-memory bus
 * and run store, a scheduler polling every 20 ms with `options`, and a worker on the `default`
 * queue with the built-in actions and `actions` (announcing nothing, 100 ms shutdown grace).
 */
export function memoryShell(
  options: Omit<SchedulerOptions, 'bus' | 'store'> = {},
  actions: ActionDefinition[] = [],
  worker: Omit<WorkerOptions, 'bus' | 'queues' | 'actions'> = {},
): MemoryShell {
  const bus = new InMemoryBus({ onError: () => {} });
  const store = new MemoryRunStore();
  return {
    bus,
    store,
    scheduler: new Scheduler({ bus, store, pollIntervalMs: 20, ...options }),
    worker: createWorker({ bus, queues: ['default'], actions: [...builtinActions(), ...actions], logger: silentLogger, announceIntervalMs: 0, shutdownGraceMs: 100, ...worker }),
  };
}
