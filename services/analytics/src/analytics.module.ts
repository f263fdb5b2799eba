import { type DynamicModule, Module } from '@nestjs/common';
import type { Bus } from '@weft/bus';
import { type HealthCheck, ProjectionModule, type ProjectionModuleOptions, projectionModule, projectionReadiness, silentServiceLogger } from '@weft/platform';
import type { DataSource } from 'typeorm';
import { InsightsQueries } from './domain/insights-queries.usecase';
import { type AnalyticsRetentionOptions, PruneAnalyticsUseCase } from './domain/prune-analytics.usecase';
import { RecordAnalyticsEventUseCase } from './domain/record-event.usecase';
import type { AnalyticsStore } from './ports/analytics-store.port';
import { SqlAnalyticsStore } from './persistence/sql-analytics.store';
import { type AnalyticsConsumerOptions, AnalyticsEventsHandler, type AnalyticsLogger } from './transport/analytics-events.handler';
import { AnalyticsController } from './transport/analytics.controller';

export type AnalyticsModuleOptions = ProjectionModuleOptions & {
  bus: Bus;
  consumer?: AnalyticsConsumerOptions;
  /** Forgetting applied event ids (always, after 8 days by default) and old aggregate hours (when set). */
  retention?: AnalyticsRetentionOptions;
  logger?: AnalyticsLogger;
} & (
    | { store: AnalyticsStore; dataSource?: never }
    /** A migrated data source (see `openAnalyticsStore`); the module builds the store on it. */
    | { dataSource: DataSource; store?: never }
  );

/** Analytics as a Nest module; the same module boots alone (Kubernetes) or beside the others (`weft dev`). */
@Module({})
export class AnalyticsModule extends ProjectionModule {
  static forRoot(options: AnalyticsModuleOptions): DynamicModule {
    const store: AnalyticsStore = options.store ?? new SqlAnalyticsStore(options.dataSource);
    const log = options.logger ?? silentServiceLogger;
    return projectionModule(
      AnalyticsModule,
      'analytics',
      {
        consumer: new AnalyticsEventsHandler(options.bus, new RecordAnalyticsEventUseCase(store), options.consumer, log),
        background: new PruneAnalyticsUseCase(store, options.retention ?? {}, log),
        controllers: [AnalyticsController],
        providers: [{ provide: InsightsQueries, useValue: new InsightsQueries(store) }],
        exports: [InsightsQueries],
      },
      options,
    );
  }

  /** The readiness check of a module made by `forRoot`: its event consumer is bound. */
  static readiness(module: DynamicModule): HealthCheck {
    return projectionReadiness(module);
  }
}
