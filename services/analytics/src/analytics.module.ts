import { type BeforeApplicationShutdown, type DynamicModule, Inject, Injectable, type MiddlewareConsumer, Module, type NestModule, type OnApplicationBootstrap } from '@nestjs/common';
import type { Bus } from '@weft/bus';
import { API_KEY_GATED, apiKeyGateProviders, type Authenticator, gateControllers, type HealthCheck, silentServiceLogger } from '@weft/platform';
import type { DataSource } from 'typeorm';
import { InsightsQueries } from './domain/insights-queries.usecase';
import { type AnalyticsRetentionOptions, PruneAnalyticsUseCase } from './domain/prune-analytics.usecase';
import { RecordAnalyticsEventUseCase } from './domain/record-event.usecase';
import type { AnalyticsStore } from './ports/analytics-store.port';
import { SqlAnalyticsStore } from './persistence/sql-analytics.store';
import { type AnalyticsConsumerOptions, AnalyticsEventsHandler, type AnalyticsLogger } from './transport/analytics-events.handler';
import { AnalyticsController } from './transport/analytics.controller';

export type AnalyticsModuleOptions = {
  bus: Bus;
  /** Consume lifecycle events (false: serve queries only). @default true */
  consume?: boolean;
  consumer?: AnalyticsConsumerOptions;
  /** Forgetting applied event ids (always, after 8 days by default) and old aggregate hours (when set). */
  retention?: AnalyticsRetentionOptions;
  /** Mount the /v1/insights controllers. @default true */
  http?: boolean;
  /**
   * The API-key gate in front of /v1/insights (analytics serving HTTP on its own).
   * Absent: another gate of the app authenticates (`weft dev` mounts the API's in front of
   * every /v1 route); with none, the routes fail closed (500), never open.
   */
  auth?: Authenticator;
  logger?: AnalyticsLogger;
} & (
  | { store: AnalyticsStore; dataSource?: never }
  /** A migrated data source (see `openAnalyticsStore`); the module builds the store on it. */
  | { dataSource: DataSource; store?: never }
);

const CONSUME = Symbol('ANALYTICS_CONSUME');

@Injectable()
class AnalyticsLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    @Inject(AnalyticsEventsHandler) private readonly handler: AnalyticsEventsHandler,
    @Inject(PruneAnalyticsUseCase) private readonly pruner: PruneAnalyticsUseCase,
    @Inject(CONSUME) private readonly consume: boolean,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.consume) await this.handler.start();
    this.pruner.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.pruner.stop();
    await this.handler.stop();
  }
}

const made = new WeakMap<DynamicModule, { handler: AnalyticsEventsHandler; consume: boolean }>();

/** Analytics as a Nest module; the same module boots alone (Kubernetes) or beside the others (`weft dev`). */
@Module({})
export class AnalyticsModule implements NestModule {
  constructor(@Inject(API_KEY_GATED) private readonly gated: boolean) {}

  configure(consumer: MiddlewareConsumer): void {
    gateControllers(consumer, this.gated, AnalyticsController);
  }

  static forRoot(options: AnalyticsModuleOptions): DynamicModule {
    const store: AnalyticsStore = options.store ?? new SqlAnalyticsStore(options.dataSource);
    const log = options.logger ?? silentServiceLogger;
    const handler = new AnalyticsEventsHandler(options.bus, new RecordAnalyticsEventUseCase(store), options.consumer, log);
    const module: DynamicModule = {
      module: AnalyticsModule,
      controllers: options.http === false ? [] : [AnalyticsController],
      providers: [
        { provide: InsightsQueries, useValue: new InsightsQueries(store) },
        { provide: AnalyticsEventsHandler, useValue: handler },
        { provide: PruneAnalyticsUseCase, useValue: new PruneAnalyticsUseCase(store, options.retention ?? {}, log) },
        { provide: CONSUME, useValue: options.consume !== false },
        ...apiKeyGateProviders(options.http === false ? undefined : options.auth),
        AnalyticsLifecycle,
      ],
      exports: [InsightsQueries],
    };
    made.set(module, { handler, consume: options.consume !== false });
    return module;
  }

  /** The readiness check of a module made by `forRoot`: its event consumer is bound. */
  static readiness(module: DynamicModule): HealthCheck {
    const entry = made.get(module);
    if (!entry) throw new Error('AnalyticsModule.readiness: pass the module AnalyticsModule.forRoot returned');
    const { handler, consume } = entry;
    return { name: 'analytics-consumer', check: async () => (consume ? handler.health() : { ok: true, detail: 'not consuming (queries only)' }) };
  }
}
