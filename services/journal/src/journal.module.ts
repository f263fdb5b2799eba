import { type BeforeApplicationShutdown, type DynamicModule, Inject, Injectable, type MiddlewareConsumer, Module, type NestModule, type OnApplicationBootstrap } from '@nestjs/common';
import type { Bus } from '@weft/bus';
import { API_KEY_GATED, apiKeyGateProviders, type Authenticator, gateControllers, type HealthCheck, silentServiceLogger } from '@weft/platform';
import type { DataSource } from 'typeorm';
import { JournalQueries } from './domain/journal-queries.usecase';
import { PruneJournalUseCase, type RetentionOptions } from './domain/prune-journal.usecase';
import { RecordEventUseCase } from './domain/record-event.usecase';
import { JOURNAL_CLOCK } from './ports/journal-clock.port';
import type { JournalStore } from './ports/journal-store.port';
import { SqlJournalStore } from './persistence/sql-journal.store';
import { type JournalConsumerOptions, JournalEventsHandler, type JournalLogger } from './transport/journal-events.handler';
import { JournalController } from './transport/journal.controller';

export type JournalModuleOptions = {
  bus: Bus;
  /** Consume lifecycle events (false: serve queries only, e.g. a read replica). @default true */
  consume?: boolean;
  consumer?: JournalConsumerOptions;
  /** Prune old entries and checkpoints; absent: keep everything. */
  retention?: RetentionOptions;
  /** Mount the /v1 controllers. @default true */
  http?: boolean;
  /**
   * The API-key gate in front of the /v1 routes (a journal serving HTTP on its own).
   * Absent: another gate of the app authenticates (`weft dev` mounts the API's in front of
   * every /v1 route); with none, the routes fail closed (500), never open.
   */
  auth?: Authenticator;
  logger?: JournalLogger;
} & (
  | { store: JournalStore; dataSource?: never }
  /** A migrated data source (see `openJournalStore`); the module builds the store on it. */
  | { dataSource: DataSource; store?: never }
);

const CONSUME = Symbol('JOURNAL_CONSUME');

@Injectable()
class JournalLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    @Inject(JournalEventsHandler) private readonly handler: JournalEventsHandler,
    @Inject(PruneJournalUseCase) private readonly pruner: PruneJournalUseCase | null,
    @Inject(CONSUME) private readonly consume: boolean,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.consume) await this.handler.start();
    this.pruner?.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.pruner?.stop();
    await this.handler.stop();
  }
}

const handlers = new WeakMap<DynamicModule, { handler: JournalEventsHandler; consume: boolean }>();

/** The journal as a Nest module; the same module boots alone (Kubernetes) or beside the others (`weft dev`). */
@Module({})
export class JournalModule implements NestModule {
  constructor(@Inject(API_KEY_GATED) private readonly gated: boolean) {}

  configure(consumer: MiddlewareConsumer): void {
    gateControllers(consumer, this.gated, JournalController);
  }

  static forRoot(options: JournalModuleOptions): DynamicModule {
    const store: JournalStore = options.store ?? new SqlJournalStore(options.dataSource);
    const log = options.logger ?? silentServiceLogger;
    const queries = new JournalQueries(store);
    const handler = new JournalEventsHandler(options.bus, new RecordEventUseCase(store), options.consumer, log);
    const pruner = options.retention ? new PruneJournalUseCase(store, options.retention, log) : null;
    const module: DynamicModule = {
      module: JournalModule,
      controllers: options.http === false ? [] : [JournalController],
      providers: [
        { provide: JournalQueries, useValue: queries },
        { provide: JournalEventsHandler, useValue: handler },
        { provide: PruneJournalUseCase, useValue: pruner },
        { provide: JOURNAL_CLOCK, useValue: store },
        { provide: CONSUME, useValue: options.consume !== false },
        ...apiKeyGateProviders(options.http === false ? undefined : options.auth),
        JournalLifecycle,
      ],
      exports: [JournalQueries],
    };
    handlers.set(module, { handler, consume: options.consume !== false });
    return module;
  }

  /** The readiness check of a module made by `forRoot`: its event consumer is bound. */
  static readiness(module: DynamicModule): HealthCheck {
    const made = handlers.get(module);
    if (!made) throw new Error('JournalModule.readiness: pass the module JournalModule.forRoot returned');
    const { handler, consume } = made;
    return { name: 'journal-consumer', check: async () => (consume ? handler.health() : { ok: true, detail: 'not consuming (queries only)' }) };
  }
}
