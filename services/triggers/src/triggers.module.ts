import { type DynamicModule, Module } from '@nestjs/common';
import type { Bus } from '@weft/bus';
import { type HealthCheck, ProjectionModule, SqlApiKeyRepository, type ProjectionModuleOptions, projectionModule, projectionReadiness } from '@weft/platform';
import { SqlTriggerStore } from './persistence/sql-trigger.store';
import { type Clock, systemClock } from './ports/clock.port';
import { fetchPoll, type PollFetch } from './ports/http-fetch.port';
import { silentTriggersLogger, type TriggersLogger } from './ports/triggers-logger.port';
import { LeaderLoop, type LeaderOptions } from './runtime/leader.loop';
import { RunRequestPublisher } from './runtime/run-request.publisher';
import { registerTriggerMetrics, setOverdueSource } from './runtime/trigger-metrics';
import { HooksController } from './transport/hooks.controller';
import { SubjectConsumers, type SubjectConsumersOptions } from './transport/subject-consumers';
import { TriggersController } from './transport/triggers.controller';
import { PollUseCase } from './usecases/poll.usecase';
import { RecordOccurrenceUseCase } from './usecases/record-occurrence.usecase';
import { ScheduleUseCase } from './usecases/schedule.usecase';
import { SignalTriggersUseCase } from './usecases/signal-triggers.usecase';
import { SyncDefinitionsUseCase } from './usecases/sync-definitions.usecase';
import { TriggerControlUseCase } from './usecases/trigger-control.usecase';
import { WebhookUseCase } from './usecases/webhook.usecase';
import { type FireRetentionOptions, PruneFiresUseCase } from './usecases/prune-fires.usecase';

export type TriggersModuleOptions = ProjectionModuleOptions & {
  bus: Bus;
  store: SqlTriggerStore;
  /** NATS for subject and event triggers; absent (the in-memory bus of `weft dev`): those triggers are off. */
  subjects?: SubjectConsumersOptions;
  leader?: LeaderOptions;
  clock?: Clock;
  fetch?: PollFetch;
  logger?: TriggersLogger;
  /** Where secrets and poll header values are read. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Fire log retention (WEFT_TRIGGER_FIRE_RETENTION, WEFT_TRIGGER_PRUNE_INTERVAL). @default 30 days, every 10 minutes */
  fireRetention?: FireRetentionOptions;
};

/** The service's parts, wired once; the module and its hooks module share them. */
/** The subject triggers' consumers as the module drives them. */
export interface TriggerConsumers {
  start(): Promise<void>;
  stop(): Promise<void>;
  health(): Promise<{ ok: boolean; detail?: string }>;
}

const NO_SUBJECTS: TriggerConsumers = {
  start: () => Promise.resolve(),
  stop: () => Promise.resolve(),
  health: () => Promise.resolve({ ok: true, detail: 'no NATS: subject and event triggers are off' }),
};

export interface TriggersParts {
  leader: LeaderLoop;
  consumers: TriggerConsumers;
  publisher: RunRequestPublisher;
  control: TriggerControlUseCase;
  webhooks: WebhookUseCase;
  retention: PruneFiresUseCase;
}

export function triggersParts(options: TriggersModuleOptions): TriggersParts {
  registerTriggerMetrics();
  const clock = options.clock ?? systemClock;
  const log = options.logger ?? silentTriggersLogger;
  const env = options.env ?? process.env;
  const { store } = options;
  const publisher = new RunRequestPublisher(store, options.bus, log);
  const occurrences = new RecordOccurrenceUseCase(store, publisher, options.bus, clock, log);
  const schedules = new ScheduleUseCase(store, occurrences, publisher, clock, log);
  const polls = new PollUseCase(store, occurrences, options.fetch ?? fetchPoll, clock, log, env);
  const sync = new SyncDefinitionsUseCase(store, log);
  const signals = new SignalTriggersUseCase(store, occurrences, log);
  const leader = new LeaderLoop(store, { sync: (now) => sync.sync(now), schedule: (since) => schedules.pass(since), poll: async () => [await polls.pass(), await signals.pass()] }, clock, log, options.leader);
  // Only the leader plans schedules, so only its scrape says which are overdue.
  setOverdueSource(async () => (leader.isLeader ? schedules.overdue() : []));
  return {
    leader,
    consumers: options.subjects ? new SubjectConsumers(store, occurrences, options.subjects, log) : NO_SUBJECTS,
    publisher,
    control: new TriggerControlUseCase(store, occurrences, schedules, polls, clock, env, new SqlApiKeyRepository(store.dataSource)),
    webhooks: new WebhookUseCase(store, occurrences, clock, env),
    retention: new PruneFiresUseCase(store, log, options.fireRetention),
  };
}

/**
 * The triggers service as a Nest module (the projection scaffold: a consumer, background work,
 * gated controllers). Its background is the leader loop and the outbox relay; its consumer the
 * subject triggers' JetStream consumers. Webhooks are served by TriggerHooksModule, outside the
 * API-key gate.
 */
@Module({})
export class TriggersModule extends ProjectionModule {
  static forRoot(options: TriggersModuleOptions, parts: TriggersParts = triggersParts(options)): DynamicModule {
    return projectionModule(
      TriggersModule,
      'triggers',
      {
        consumer: parts.consumers,
        background: {
          start: () => {
            parts.publisher.start();
            parts.leader.start();
            parts.retention.start();
          },
          stop: async () => {
            await parts.retention.stop();
            await parts.leader.stop();
            await parts.publisher.stop();
          },
        },
        controllers: [TriggersController],
        providers: [{ provide: TriggerControlUseCase, useValue: parts.control }],
        exports: [TriggerControlUseCase],
      },
      options,
    );
  }

  static readiness(module: DynamicModule): HealthCheck {
    return projectionReadiness(module);
  }

  static leadership(parts: TriggersParts): HealthCheck {
    return { name: 'triggers-leader', check: () => parts.leader.health() };
  }
}

/** `POST /v1/hooks/...`: no API key (the signature is the credential). */
@Module({})
export class TriggerHooksModule {
  static forRoot(parts: TriggersParts): DynamicModule {
    return { module: TriggerHooksModule, controllers: [HooksController], providers: [{ provide: WebhookUseCase, useValue: parts.webhooks }] };
  }
}

export { SqlTriggerStore };
