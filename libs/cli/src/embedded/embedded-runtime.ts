import type { DynamicModule } from '@nestjs/common';
import { type Bus, InMemoryBus, type Subscription } from '@weft/bus';
import { type LifecycleEvent, TERMINAL_RUN_STATUSES } from '@weft/contracts';
import type { RunState, WorkflowSpec } from '@weft/core';
import { MemoryRunStore, type RunStore, Scheduler, type SchedulerModuleOptions, type WorkflowCatalog } from '@weft/scheduler';
import { type ActionDefinition, type ActionLogger, builtinActions, createWorker, type HttpRequestOptions } from '@weft/worker';

export interface EmbeddedOptions {
  /** Actions beyond the built-in ones (user modules, SDK registrations). */
  actions?: ActionDefinition[];
  store?: RunStore;
  bus?: Bus;
  /** Parallel steps in this process. @default 64 */
  concurrency?: number;
  /** Where action handlers' logs go. @default stderr lines */
  logger?: ActionLogger;
  /** What http.request may reach beyond public addresses (WEFT_HTTP_ALLOW, see httpPolicyOf). @default public addresses only */
  http?: HttpRequestOptions;
  /** More modules in the same application, on the same bus (the journal and analytics of a kept run). */
  modules?: DynamicModule[];
  /** Where child runs (`action: workflow`) find the workflows they name (weft run: files, see FileWorkflowCatalog). */
  catalog?: WorkflowCatalog;
  /** WEFT_MAX_RUN_DEPTH. @default the engine's */
  maxRunDepth?: number;
}

export interface EmbeddedRuntime {
  bus: Bus;
  store: RunStore;
  scheduler: Scheduler;
  /** Starts a run and resolves with its final state. `onEvent` sees every lifecycle event of the run. */
  run(spec: WorkflowSpec, inputs: Record<string, unknown>, options?: RunOptions): Promise<RunState>;
  close(): Promise<void>;
}

export interface RunOptions {
  runId?: string;
  onEvent?: (event: LifecycleEvent) => void;
  /** Called once the run exists, with its id (e.g. to cancel it on Ctrl-C). */
  onStarted?: (runId: string) => void;
}

/**
 * Scheduler and executor in one process, wired through the in-memory bus. No infrastructure
 * needed. With `modules` (the journal and analytics of a run kept on PostgreSQL), the same Nest
 * modules as in Kubernetes in one application; without, the scheduler and the worker those
 * modules would make, started and stopped as they would (no Nest application: @nestjs/core and
 * its bootstrap were ~0.1 s of a `weft run`).
 */
export async function startEmbedded(options: EmbeddedOptions = {}): Promise<EmbeddedRuntime> {
  const bus = options.bus ?? new InMemoryBus();
  const store = options.store ?? new MemoryRunStore();
  const actions = [...builtinActions({ http: options.http }), ...(options.actions ?? [])];
  const schedulerOptions: SchedulerModuleOptions = {
    bus,
    store,
    pollIntervalMs: 100,
    ...(options.catalog && { catalog: options.catalog }),
    ...(options.maxRunDepth !== undefined && { maxRunDepth: options.maxRunDepth }),
  };
  const executorOptions = { bus, queues: ['*'], actions, concurrency: options.concurrency ?? 64, logger: options.logger };

  let scheduler: Scheduler;
  let stop: () => Promise<void>;
  if (options.modules !== undefined && options.modules.length > 0) {
    // Loaded here, not at the top: Nest (@nestjs/common, rxjs: ~360 modules) is for this path only.
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { Module } = require('@nestjs/common') as typeof import('@nestjs/common');
    const { NestFactory } = require('@nestjs/core') as typeof import('@nestjs/core');
    const { ExecutorModule } = require('@weft/executor') as typeof import('@weft/executor');
    const { SchedulerModule } = require('@weft/scheduler') as typeof import('@weft/scheduler');
    /* eslint-enable @typescript-eslint/no-require-imports */
    class EmbeddedModule {}
    Module({ imports: [SchedulerModule.forRoot(schedulerOptions), ExecutorModule.forRoot(executorOptions), ...options.modules] })(EmbeddedModule);
    const app = await NestFactory.createApplicationContext(EmbeddedModule, { logger: false });
    await app.init();
    scheduler = app.get(Scheduler);
    stop = () => app.close();
  } else {
    // What SchedulerModule and ExecutorModule do on bootstrap and shutdown.
    scheduler = new Scheduler(schedulerOptions);
    const worker = createWorker(executorOptions);
    await scheduler.start();
    try {
      await worker.start();
    } catch (error) {
      await scheduler.stop();
      throw error;
    }
    stop = async () => {
      await worker.stop();
      await scheduler.stop();
    };
  }

  const watchers = new Map<string, (event: LifecycleEvent) => void>();
  // Subscribed by the first run() (from the first stored event, as before): a runtime driven through
  // its scheduler alone (the API, bench/) does not decode every lifecycle event for watchers it never has.
  let events: Promise<Subscription> | undefined;
  const watch = (): Promise<Subscription> =>
    (events ??= bus.consume('weft.event.>', { group: `embedded-watch-${process.pid}` }, async (delivery) => {
      watchers.get(delivery.data.runId)?.(delivery.data);
    }));

  return {
    bus,
    store,
    scheduler,
    async run(spec, inputs, runOptions = {}) {
      const runId = runOptions.runId ?? crypto.randomUUID();
      const done = new Promise<void>((resolve) => {
        watchers.set(runId, (event) => {
          runOptions.onEvent?.(event);
          if (event.type.startsWith('run.') && TERMINAL_RUN_STATUSES.includes(event.status as RunState['status'])) resolve();
        });
      });
      try {
        await watch();
        await scheduler.startRun({ idempotencyKey: runId, runId, workflow: spec.name, spec, inputs, source: 'cli' });
        runOptions.onStarted?.(runId);
        await done;
        const state = await store.getRun(runId);
        if (!state) throw new Error(`run ${runId} vanished from the store`);
        return state;
      } finally {
        watchers.delete(runId);
      }
    },
    async close() {
      await events?.then((subscription) => subscription.drain(), () => undefined);
      await stop();
      await store.close();
      await bus.close();
    },
  };
}
