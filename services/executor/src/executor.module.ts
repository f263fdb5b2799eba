import { type BeforeApplicationShutdown, type DynamicModule, Inject, Injectable, Module, type OnApplicationBootstrap } from '@nestjs/common';
import type { Bus } from '@weft/bus';
import { type ActionDefinition, type ActionLogger, createWorker, type OutputBlobs, type Worker } from '@weft/worker';

export interface ExecutorModuleOptions {
  bus: Bus;
  /** Task queues this executor serves; `*` serves every queue (embedded mode). */
  queues: string[];
  actions: ActionDefinition[];
  concurrency?: number;
  /** Dispatches held per queue beyond `concurrency`, served to their runs in turn (WEFT_PREFETCH). @default the worker's: concurrency */
  prefetch?: number;
  shutdownGraceMs?: number;
  /** Progress heartbeat interval of running steps (ms). @default the worker's 10000 */
  heartbeatIntervalMs?: number;
  /** Largest JSON output a result carries (WEFT_MAX_PAYLOAD, bytes). @default DEFAULT_MAX_PAYLOAD_BYTES */
  maxPayloadBytes?: number;
  /** Large outputs by reference (WEFT_INLINE_PAYLOAD_MAX, WEFT_MAX_OUTPUT): where they are stored. @default none (WEFT_MAX_PAYLOAD bounds every output) */
  blobs?: OutputBlobs;
  logger?: ActionLogger;
}

export const WORKER = Symbol('WEFT_WORKER');

@Injectable()
class ExecutorLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(@Inject(WORKER) private readonly worker: Worker) {}

  onApplicationBootstrap(): Promise<void> {
    return this.worker.start();
  }

  /** SIGTERM: stop pulling, let in-flight steps finish within the grace period, hand back the rest. */
  beforeApplicationShutdown(): Promise<void> {
    return this.worker.stop();
  }
}

/** The executor as a Nest module: a stateless worker pool for its task queues. */
@Module({})
export class ExecutorModule {
  static forRoot(options: ExecutorModuleOptions): DynamicModule {
    return {
      module: ExecutorModule,
      providers: [{ provide: WORKER, useFactory: () => createWorker(options) }, ExecutorLifecycle],
      exports: [WORKER],
    };
  }
}
