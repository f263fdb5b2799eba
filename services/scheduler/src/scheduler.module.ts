import { type DynamicModule, Inject, Injectable, Module, type OnApplicationBootstrap, type BeforeApplicationShutdown } from '@nestjs/common';
import type { Bus } from '@weft/bus';
import { Scheduler, type SchedulerLogger, type SchedulerOptions } from './scheduler';
import type { RunStore } from './ports/run-store.port';
import type { WorkflowCatalog } from './ports/workflow-catalog.port';

export interface SchedulerModuleOptions {
  bus: Bus;
  store: RunStore;
  catalog?: WorkflowCatalog;
  pollIntervalMs?: number;
  leaseMs?: number;
  /** See SchedulerOptions.maxPayloadBytes (WEFT_MAX_PAYLOAD). */
  maxPayloadBytes?: number;
  /** See SchedulerOptions.maxForEachItems (WEFT_MAX_FOREACH_ITEMS). */
  maxForEachItems?: number;
  /** See SchedulerOptions.maxRunDepth (WEFT_MAX_RUN_DEPTH). */
  maxRunDepth?: number;
  /** See SchedulerOptions.sharedWindow (WEFT_SHARED_WINDOW). */
  sharedWindow?: number;
  beforePublish?: SchedulerOptions['beforePublish'];
  logger?: SchedulerLogger;
  recoverInFlightOnStart?: boolean;
  /** WEFT_SIGNAL_RETENTION in ms (0: forever). @default 7 days */
  signalRetentionMs?: number;
  /** See SchedulerOptions.blobs (large outputs stored by reference). */
  blobs?: SchedulerOptions['blobs'];
  /** See SchedulerOptions.inlinePayloadBytes (WEFT_INLINE_PAYLOAD_MAX). */
  inlinePayloadBytes?: number;
  /** See SchedulerOptions.maxOutputBytes (WEFT_MAX_OUTPUT). */
  maxOutputBytes?: number;
  /** See SchedulerOptions.blobSweep (removing blobs nothing names). */
  blobSweep?: SchedulerOptions['blobSweep'];
  /** See SchedulerOptions.outboxRetention (WEFT_OUTBOX_RETENTION, WEFT_OUTBOX_PRUNE_INTERVAL). */
  outboxRetention?: SchedulerOptions['outboxRetention'];
  /** See SchedulerOptions.slots (concurrency slots; SqlSlotStore on a shared database). */
  slots?: SchedulerOptions['slots'];
}

@Injectable()
class SchedulerLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(@Inject(Scheduler) private readonly scheduler: Scheduler) {}

  onApplicationBootstrap(): Promise<void> {
    return this.scheduler.start();
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.scheduler.stop();
  }
}

/** The scheduler as a Nest module; the same module boots alone (Kubernetes) or beside the others (embedded). */
@Module({})
export class SchedulerModule {
  static forRoot(options: SchedulerModuleOptions): DynamicModule {
    return {
      module: SchedulerModule,
      providers: [{ provide: Scheduler, useFactory: () => new Scheduler(options) }, SchedulerLifecycle],
      exports: [Scheduler],
    };
  }
}
