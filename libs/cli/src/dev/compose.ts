import { type DynamicModule, Module } from '@nestjs/common';
import { AnalyticsModule, analyticsRetentionOf, openAnalyticsStore } from '@weft/analytics';
import { type Bus, InMemoryBus } from '@weft/bus';
import { type DatabaseConfig, databaseConfigOf, type WeftConfig, queuesOf } from '@weft/config';
import { blobsOf } from '@weft/db';
import { ExecutorModule } from '@weft/executor';
import { JournalModule, journalRetentionOf, openJournalStore } from '@weft/journal';
import { ConsoleModule, connectBus, consoleDistDir, createLogger, HealthModule, ShutdownModule, type WeftLogger } from '@weft/platform';
import { ApiModule, openSqlRunStore, type RunStore, SchedulerModule, SqlSlotStore, storedWorkflowCatalog } from '@weft/scheduler';
import { templates } from '@weft/sdk';
import { openTriggerStore, TriggerHooksModule, TriggersModule, triggersParts } from '@weft/triggers';
import { type ActionDefinition, builtinActions, httpPolicyOf } from '@weft/worker';
import { importKeptRuns } from '../embedded/kept-runs.import';

export interface Composition {
  module: DynamicModule;
  bus: Bus;
  store: RunStore;
  /** What this process runs on, for the start-up banner. */
  description: string;
  /** The API takes requests without a key (namespace default): only on a loopback address. */
  anonymous: boolean;
}

/** Addresses only this machine can reach: there `weft dev` serves the API without keys. */
export const isLoopback = (host: string): boolean => host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);

/**
 * All services in one process (`weft dev`): on NATS and PostgreSQL when NATS_URL and
 * DATABASE_URL are set, otherwise on the in-memory bus and PGlite in WEFT_DATA_DIR,
 * so a run waiting in a long sleep is still there after a restart.
 */
export async function composeDev(config: WeftConfig, actions: ActionDefinition[], logger?: WeftLogger): Promise<Composition> {
  // Bus failures nobody awaits go to the log; without one (specs), to a logger at LOG_LEVEL.
  const bus: Bus = config.NATS_URL ? await connectBus(config, 'weft-dev', logger ?? createLogger({ level: config.LOG_LEVEL, service: 'dev' })) : new InMemoryBus();
  const dbConfig: DatabaseConfig = databaseConfigOf(config);
  // Runs `weft run` kept for this store while it was closed go in first (then PGlite stays open for what follows).
  const kept = await importKeptRuns(dbConfig, { migrate: config.WEFT_MIGRATE });
  const { store, dataSource } = await openSqlRunStore(dbConfig, { migrate: config.WEFT_MIGRATE });
  await kept.close();
  // The journal and analytics keep their tables next to the scheduler's (same PGlite directory or database).
  const journal = await openJournalStore(dbConfig, { migrate: config.WEFT_MIGRATE });
  const analytics = await openAnalyticsStore(dbConfig, { migrate: config.WEFT_MIGRATE });
  const triggerStore = await openTriggerStore(dbConfig, { migrate: config.WEFT_MIGRATE });
  const journalRetention = journalRetentionOf(config);
  const journalModule = JournalModule.forRoot({ bus, store: journal.store, ...(journalRetention && { retention: journalRetention }) });
  const analyticsModule = AnalyticsModule.forRoot({ bus, store: analytics.store, retention: analyticsRetentionOf(config) });
  const embeddedBus = !config.NATS_URL;
  // Triggers: schedules, webhooks and polls on any bus; subject and event triggers need NATS.
  const triggerOptions = {
    bus,
    store: triggerStore.store,
    fireRetention: { retentionMs: config.WEFT_TRIGGER_FIRE_RETENTION, intervalMs: config.WEFT_TRIGGER_PRUNE_INTERVAL },
    ...(config.NATS_URL && { subjects: { servers: config.NATS_URL.split(','), ...(config.WEFT_NATS_PREFIX && { prefix: config.WEFT_NATS_PREFIX }) } }),
    ...(logger && { logger }),
  };
  const triggerParts = triggersParts(triggerOptions);
  const triggersModule = TriggersModule.forRoot(triggerOptions, triggerParts);
  const anonymous = isLoopback(config.HOST);
  // Large outputs (over WEFT_INLINE_PAYLOAD_MAX) are written by the in-process executor and read by the scheduler and API.
  const { store: blobs, sweep: sweepBlobs } = blobsOf(dataSource, config);
  const scheduler = SchedulerModule.forRoot({
    bus,
    store,
    catalog: storedWorkflowCatalog(dataSource),
    pollIntervalMs: config.WEFT_POLL_INTERVAL_MS,
    leaseMs: config.WEFT_LEASE_MS,
    maxPayloadBytes: config.WEFT_MAX_PAYLOAD,
    maxForEachItems: config.WEFT_MAX_FOREACH_ITEMS,
    maxRunDepth: config.WEFT_MAX_RUN_DEPTH,
    sharedWindow: config.WEFT_SHARED_WINDOW,
    recoverInFlightOnStart: embeddedBus,
    signalRetentionMs: config.WEFT_SIGNAL_RETENTION,
    outboxRetention: { retentionMs: config.WEFT_OUTBOX_RETENTION, intervalMs: config.WEFT_OUTBOX_PRUNE_INTERVAL },
    blobs,
    slots: new SqlSlotStore(dataSource),
    inlinePayloadBytes: config.WEFT_INLINE_PAYLOAD_MAX,
    maxOutputBytes: config.WEFT_MAX_OUTPUT,
    blobSweep: { sweep: sweepBlobs, graceMs: config.WEFT_BLOB_SWEEP_GRACE },
    logger,
  });
  const api = ApiModule.forRoot({
    bus,
    store,
    dataSource,
    scheduler,
    blobs,
    auth: { anonymous, ...(config.WEFT_ADMIN_KEY !== undefined && { adminKey: config.WEFT_ADMIN_KEY }) },
    templates: () => templates.list().map((t) => ({ ...t, spec: templates.get(t.name) })),
    specLimits: { maxSteps: config.WEFT_MAX_STEPS },
    stuckAfterMs: config.WEFT_STUCK_AFTER,
    ...(logger && { logger }),
  });

  @Module({})
  class DevModule {}

  const module: DynamicModule = {
    module: DevModule,
    imports: [
      // With the in-memory bus nothing survives a restart but the database, so steps
      // that were in flight when the last process stopped are dispatched again at once.
      scheduler,
      api,
      ExecutorModule.forRoot({
        bus,
        queues: embeddedBus ? ['*'] : queuesOf(config),
        actions: [...builtinActions({ http: httpPolicyOf(config) }), ...actions],
        concurrency: config.WEFT_CONCURRENCY,
        ...(config.WEFT_PREFETCH !== undefined && { prefetch: config.WEFT_PREFETCH }),
        shutdownGraceMs: config.WEFT_SHUTDOWN_GRACE_MS,
        heartbeatIntervalMs: config.WEFT_HEARTBEAT_MS,
        maxPayloadBytes: config.WEFT_MAX_PAYLOAD,
        blobs: { store: blobs, inlinePayloadBytes: config.WEFT_INLINE_PAYLOAD_MAX, maxOutputBytes: config.WEFT_MAX_OUTPUT },
        logger,
      }),
      journalModule,
      analyticsModule,
      triggersModule,
      TriggerHooksModule.forRoot(triggerParts),
      // The web console at / (apps/console's build); the API stays under /v1.
      ConsoleModule.serve(consoleDistDir()),
      HealthModule.forRoot([
        { name: 'bus', check: () => bus.health() },
        { name: 'database', check: async () => (await dataSource.query('select 1'), { ok: true }) },
        JournalModule.readiness(journalModule),
        AnalyticsModule.readiness(analyticsModule),
        TriggersModule.readiness(triggersModule),
        TriggersModule.leadership(triggerParts),
      ]),
      ShutdownModule.closing(
        () => bus.close(),
        () => store.close(),
        () => journal.store.close(),
        () => analytics.store.close(),
        () => journal.dataSource.destroy(),
        () => analytics.dataSource.destroy(),
        () => triggerStore.dataSource.destroy(),
        () => dataSource.destroy(),
      ),
    ],
  };
  const where = `${config.NATS_URL ? `NATS ${config.NATS_URL}` : 'in-memory bus'}, ${dbConfig.kind === 'postgres' ? 'PostgreSQL' : `PGlite in ${dbConfig.dataDir ?? 'memory'}`}`;
  return { module, bus, store, description: where, anonymous };
}
