import type { InMemoryBus } from '@weft/bus';
import type { Worker } from '@weft/worker';
import type { Scheduler } from '../scheduler';

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
