import { type DynamicModule, Module } from '@nestjs/common';
import type { Bus } from '@weft/bus';
import { type HealthCheck, ProjectionModule, type ProjectionModuleOptions, projectionModule, projectionReadiness, silentServiceLogger } from '@weft/platform';
import type { DataSource } from 'typeorm';
import { JournalQueries } from './domain/journal-queries.usecase';
import { PruneJournalUseCase, type RetentionOptions } from './domain/prune-journal.usecase';
import { RecordEventUseCase } from './domain/record-event.usecase';
import { JOURNAL_CLOCK } from './ports/journal-clock.port';
import type { JournalStore } from './ports/journal-store.port';
import { SqlJournalStore } from './persistence/sql-journal.store';
import { type JournalConsumerOptions, JournalEventsHandler, type JournalLogger } from './transport/journal-events.handler';
import { JournalController } from './transport/journal.controller';

export type JournalModuleOptions = ProjectionModuleOptions & {
  bus: Bus;
  consumer?: JournalConsumerOptions;
  /** Prune old entries and checkpoints; absent: keep everything. */
  retention?: RetentionOptions;
  logger?: JournalLogger;
} & (
    | { store: JournalStore; dataSource?: never }
    /** A migrated data source (see `openJournalStore`); the module builds the store on it. */
    | { dataSource: DataSource; store?: never }
  );

/** The journal as a Nest module; the same module boots alone (Kubernetes) or beside the others (`weft dev`). */
@Module({})
export class JournalModule extends ProjectionModule {
  static forRoot(options: JournalModuleOptions): DynamicModule {
    const store: JournalStore = options.store ?? new SqlJournalStore(options.dataSource);
    const log = options.logger ?? silentServiceLogger;
    return projectionModule(
      JournalModule,
      'journal',
      {
        consumer: new JournalEventsHandler(options.bus, new RecordEventUseCase(store), options.consumer, log),
        ...(options.retention && { background: new PruneJournalUseCase(store, options.retention, log) }),
        controllers: [JournalController],
        providers: [
          { provide: JournalQueries, useValue: new JournalQueries(store) },
          { provide: JOURNAL_CLOCK, useValue: store },
        ],
        exports: [JournalQueries],
      },
      options,
    );
  }

  /** The readiness check of a module made by `forRoot`: its event consumer is bound. */
  static readiness(module: DynamicModule): HealthCheck {
    return projectionReadiness(module);
  }
}
