import {
  type BeforeApplicationShutdown,
  type DynamicModule,
  Inject,
  Injectable,
  type MiddlewareConsumer,
  Module,
  type NestModule,
  type OnApplicationBootstrap,
  RequestMethod,
} from '@nestjs/common';
import type { Bus } from '@weft/bus';
import { type AuthOptions, Authenticator, SqlApiKeyRepository } from '@weft/platform';
import { type ActionDefinition, announcedAction, builtinActions, DEFAULT_ANNOUNCE_INTERVAL_MS } from '@weft/worker';
import type { DataSource } from 'typeorm';
import { Scheduler } from '../scheduler';
import { SqlSlotStore } from '../persistence/sql-slot.store';
import type { RunStore } from '../ports/run-store.port';
import type { WaitStore } from '../ports/wait-store.port';
import { SpecChecker, type SpecLimits, SqlWorkflowRepository, StoredWorkflowCatalog, WorkflowsUseCase } from '../workflows';
import { SPEC_CHECKER } from './spec-limits.token';
import { CatalogController } from './catalog.controller';
import { ActionCatalog } from './catalog/action-catalog';
import { withWaitActions } from './catalog/wait-actions.catalog';
import { noTemplates, TEMPLATES, type TemplateSource } from './catalog/templates';
import { ApiGateMiddleware } from './http/api-gate.middleware';
import { ApiProblemFilter, type ProblemLogger } from './http/problem.filter';
import { ApiKeysUseCase } from '../usecases/api-keys.usecase';
import { KeysController } from './keys.controller';
import { OpenApiController } from './openapi/openapi.controller';
import { RunAccess } from '../usecases/run-access';
import { RunControlUseCase } from '../usecases/run-control.usecase';
import { SqlRunDirectory } from '../persistence/run-directory.repository';
import { RunEventsHub, type RunEventsHubOptions } from './runs/run-events.hub';
import { RunQueriesUseCase } from '../usecases/run-queries.usecase';
import { FlowQueriesUseCase } from '../usecases/flow-queries.usecase';
import { FlowController } from './flow.controller';
import { RunResponder } from './runs/run-responder';
import { RunWatch, type RunWatchOptions } from './runs/run-watch';
import { StartRunUseCase } from '../usecases/start-run.usecase';
import { RunsController } from './runs.controller';
import { WorkflowsController } from './workflows.controller';
import { ReviewsController } from './reviews.controller';
import { SignalsController } from './signals.controller';
import { AuditController } from './audit.controller';
import { ExceptionsController } from './exceptions.controller';
import { ExceptionsUseCase } from '../usecases/exceptions.usecase';
import { BusDeadLetters } from '../usecases/bus-dead-letters';
import { runOwners } from '../persistence/sql-exceptions.query';
import { ReviewsUseCase } from '../usecases/reviews.usecase';
import { SignalsUseCase } from '../usecases/signals.usecase';
import { WaitActors } from '../usecases/wait-actors';
import { ApiAudit } from './api-audit';
import type { BlobStore } from '@weft/contracts';
import { SqlBlobStore } from '@weft/db';
import { StepOutputController } from './step-output.controller';
import { StepOutputUseCase } from '../usecases/step-output.usecase';

/** The store's signals, waits and reviews (RunStore.waits). */
function waitStoreOf(store: RunStore): WaitStore {
  if (!store.waits) throw new Error('the run store keeps no signals or reviews (RunStore.waits): the API cannot serve the exception queue');
  return store.waits;
}

/** The API needs a store that keeps durable waits (both SQL stores and the memory store do). */
function waitsOf(scheduler: Scheduler): { signals: SignalsUseCase; reviews: ReviewsUseCase } {
  if (!scheduler.signals || !scheduler.reviews) throw new Error('the scheduler\'s run store keeps no signals or reviews (RunStore.waits): the API cannot serve them');
  return { signals: scheduler.signals, reviews: scheduler.reviews };
}

export interface ApiModuleOptions {
  bus: Bus;
  store: RunStore;
  /** The scheduler's migrated data source (workflows, keys, run listings). */
  dataSource: DataSource;
  /** The module that provides the Scheduler (SchedulerModule.forRoot's result); imported, not duplicated. */
  scheduler: DynamicModule;
  /** Where large payloads live (blobsOf: the `blobs` table or WEFT_BLOB_URL's bucket). @default the `blobs` table of `dataSource` */
  blobs?: BlobStore;
  auth: AuthOptions;
  /** Actions shown as built-in in the catalog. @default builtinActions() */
  builtinActions?: ActionDefinition[];
  templates?: TemplateSource;
  events?: RunEventsHubOptions;
  watch?: RunWatchOptions;
  logger?: ProblemLogger;
  /** Bounds on specs it accepts (WEFT_MAX_STEPS). @default { maxSteps: 100000 } */
  specLimits?: SpecLimits;
  /** WEFT_STUCK_AFTER in ms: when the exception queue lists a run as stuck (`blocked`). @default 15 minutes */
  stuckAfterMs?: number;
  /**
   * How long the API listens to worker announcements before it lists a queue with dispatched work
   * and no live worker as `blocked` (every live worker has announced by then). @default 15000, the
   * workers' default announce interval
   */
  workerSettleMs?: number;
}

const OPTIONS = Symbol('WEFT_API_OPTIONS');

@Injectable()
class ApiLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    @Inject(RunEventsHub) private readonly hub: RunEventsHub,
    @Inject(ActionCatalog) private readonly catalog: ActionCatalog,
    @Inject(RunResponder) private readonly responder: RunResponder,
    @Inject(SPEC_CHECKER) private readonly checker: SpecChecker,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.hub.start();
    await this.catalog.start();
  }

  /** Before the HTTP server closes: it waits for open streams and sync waits, so end them first. */
  async beforeApplicationShutdown(): Promise<void> {
    this.responder.close();
    await this.catalog.stop();
    await this.hub.stop();
    await this.checker.close();
  }
}

/**
 * The control-plane HTTP API under /v1 (and GET /openapi.json), mounted by the scheduler
 * service and by `weft dev`. Every /v1 request passes ApiGateMiddleware (key -> namespace,
 * JSON bodies only, other namespaces' runs hidden); every error leaves as a problem document.
 */
@Module({})
export class ApiModule implements NestModule {
  static forRoot(options: ApiModuleOptions): DynamicModule {
    const { dataSource, store, bus } = options;
    const log: ProblemLogger = options.logger ?? { error: (msg, fields) => console.error(`[api] ${msg}`, fields) };
    // Specs are parsed and validated off the event loop when large (a 1 MB body is ~1 s of CPU).
    const checker = new SpecChecker({
      limits: options.specLimits ?? {},
      onWorkerFailed: (error) => log.error('the spec check thread could not start; checking specs on the event loop', { error }),
    });
    const workflows = new WorkflowsUseCase(new SqlWorkflowRepository(dataSource), checker);
    const keys = new SqlApiKeyRepository(dataSource);
    const authenticator = new Authenticator(keys, options.auth);
    const directory = new SqlRunDirectory(dataSource);
    const access = new RunAccess(store, directory);
    // Large payloads (stored by reference): the scheduler's blobs table, or the process's S3 store.
    const blobStore = options.blobs ?? new SqlBlobStore(dataSource);
    const hub = new RunEventsHub(bus, options.events);
    const watch = new RunWatch(hub, store, options.watch);
    const responder = new RunResponder(watch, store, directory);
    return {
      module: ApiModule,
      imports: [options.scheduler],
      controllers: [WorkflowsController, RunsController, CatalogController, KeysController, OpenApiController, SignalsController, ReviewsController, FlowController, AuditController, StepOutputController, ExceptionsController],
      providers: [
        { provide: OPTIONS, useValue: options },
        { provide: SPEC_CHECKER, useValue: checker },
        { provide: WorkflowsUseCase, useValue: workflows },
        { provide: Authenticator, useValue: authenticator },
        { provide: RunAccess, useValue: access },
        { provide: RunEventsHub, useValue: hub },
        { provide: RunResponder, useValue: responder },
        { provide: ActionCatalog, useValue: new ActionCatalog(bus, withWaitActions((options.builtinActions ?? builtinActions()).map(announcedAction))) },
        { provide: TEMPLATES, useValue: options.templates ?? noTemplates },
        { provide: ApiKeysUseCase, useValue: new ApiKeysUseCase(keys) },
        { provide: RunQueriesUseCase, useValue: new RunQueriesUseCase(access, directory, () => store.now()) },
        { provide: StepOutputUseCase, useValue: new StepOutputUseCase(access, blobStore) },
        // why's slot holders: the concurrency_slots table the scheduler's SqlSlotStore keeps.
        {
          provide: FlowQueriesUseCase,
          useFactory: (catalog: ActionCatalog, scheduler: Scheduler) =>
            new FlowQueriesUseCase(access, () => store.now(), () => catalog.liveQueues(), new SqlSlotStore(dataSource), (runId) => scheduler.windows.peek(runId)),
          inject: [ActionCatalog, Scheduler],
        },
        {
          provide: StartRunUseCase,
          useFactory: (scheduler: Scheduler) => new StartRunUseCase(scheduler, workflows, access, directory, checker, blobStore),
          inject: [Scheduler],
        },
        { provide: RunControlUseCase, useFactory: (scheduler: Scheduler) => new RunControlUseCase(scheduler, access), inject: [Scheduler] },
        { provide: SignalsUseCase, useFactory: (scheduler: Scheduler) => waitsOf(scheduler).signals, inject: [Scheduler] },
        { provide: ReviewsUseCase, useFactory: (scheduler: Scheduler) => waitsOf(scheduler).reviews, inject: [Scheduler] },
        { provide: WaitActors, useValue: new WaitActors(keys) },
        { provide: ApiAudit, useFactory: (signals: SignalsUseCase, actors: WaitActors) => new ApiAudit(signals, actors), inject: [SignalsUseCase, WaitActors] },
        {
          provide: ExceptionsUseCase,
          // Queues without a live worker: the catalog's worker announcements, as `why` reads them.
          useFactory: (catalog: ActionCatalog) =>
            new ExceptionsUseCase(
              waitStoreOf(store),
              options.stuckAfterMs,
              { servedQueues: () => catalog.servedQueues(options.workerSettleMs ?? DEFAULT_ANNOUNCE_INTERVAL_MS) },
              // Messages the bus dead-lettered, in the namespace of the run they name.
              new BusDeadLetters(bus, (runIds) => runOwners(dataSource, runIds), waitStoreOf(store)),
            ),
          inject: [ActionCatalog],
        },
        // Required here: importing @weft/scheduler (weft run's embedded scheduler) does not load @nestjs/core.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        { provide: (require('@nestjs/core') as typeof import('@nestjs/core')).APP_FILTER, useValue: new ApiProblemFilter(log, authenticator) },
        ApiGateMiddleware,
        ApiLifecycle,
      ],
      exports: [WorkflowsUseCase, RunEventsHub],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    // Webhook deliveries (the triggers service, mounted beside the API in `weft dev`) carry a signature, not a key.
    consumer
      .apply(ApiGateMiddleware)
      .exclude({ path: 'v1/hooks/*path', method: RequestMethod.POST })
      .forRoutes({ path: 'v1/*path', method: RequestMethod.ALL });
  }
}

/** The scheduler's WorkflowCatalog over the stored workflows of a data source (namespace `default`). */
export function storedWorkflowCatalog(dataSource: DataSource, namespace = 'default'): StoredWorkflowCatalog {
  return new StoredWorkflowCatalog(new WorkflowsUseCase(new SqlWorkflowRepository(dataSource)), namespace);
}
