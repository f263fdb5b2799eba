import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { JetStreamBus } from '@weft/bus';
import { type WeftConfig } from '@weft/config';
import { databaseConfigFromEnv } from '@weft/db';
import { bootService, createLogger, HealthModule, ShutdownModule } from '@weft/platform';
import type { Tracing } from '@weft/telemetry';
import { openSqlRunStore } from './persistence';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ApiModule, storedWorkflowCatalog, templatesFromDirectory } from './api';
import { SchedulerModule } from './scheduler.module';

/** The scheduler process once tracing is up (see main.ts): connects, migrates, serves until SIGTERM. */
export async function runScheduler(config: WeftConfig & { NATS_URL: string }, env: NodeJS.ProcessEnv, tracing: Tracing): Promise<void> {
  const logger = createLogger({ level: config.LOG_LEVEL, service: 'scheduler' });
  const bus = await JetStreamBus.connect({
    servers: config.NATS_URL.split(','),
    name: 'weft-scheduler',
    prefix: config.WEFT_NATS_PREFIX,
    replicas: config.WEFT_NATS_REPLICAS,
    ...(config.WEFT_NATS_PULL_EXPIRES_MS !== undefined && { pullExpiresMs: config.WEFT_NATS_PULL_EXPIRES_MS }),
    onError: (error, context) => logger.error(context, { error }),
  });
  const { store, dataSource } = await openSqlRunStore(databaseConfigFromEnv(env), {
    migrate: config.WEFT_MIGRATE,
    ...(config.WEFT_OUTBOX_CLAIM_MS !== undefined && { outboxClaimMs: config.WEFT_OUTBOX_CLAIM_MS }),
  });
  // The SDK's template files, unless WEFT_TEMPLATES_DIR names others (the service cannot import the SDK's code).
  const shipped = join(__dirname, '..', '..', '..', 'libs', 'sdk', 'templates');
  const templatesDir = config.WEFT_TEMPLATES_DIR ?? (existsSync(shipped) ? shipped : undefined);
  const crashBeforePublish = (): void => {
    process.stderr.write('WEFT_TEST_CRASH_AFTER_COMMIT: exiting between commit and publish\n');
    process.exit(86);
  };

  const scheduler = SchedulerModule.forRoot({
    bus,
    store,
    // Run requests over the bus that name a stored workflow start its published version.
    catalog: storedWorkflowCatalog(dataSource),
    pollIntervalMs: config.WEFT_POLL_INTERVAL_MS,
    leaseMs: config.WEFT_LEASE_MS,
    logger,
    ...(config.WEFT_TEST_CRASH_AFTER_COMMIT && { beforePublish: crashBeforePublish }),
  });

  @Module({
    imports: [
      scheduler,
      // The control-plane API; a service always wants API keys (only `weft dev` on loopback goes without).
      ApiModule.forRoot({
        bus,
        store,
        dataSource,
        scheduler,
        auth: { anonymous: false },
        ...(templatesDir !== undefined && { templates: templatesFromDirectory(templatesDir) }),
        logger,
      }),
      HealthModule.forRoot([
        { name: 'nats', check: () => bus.health() },
        { name: 'postgres', check: async () => (await dataSource.query('select 1'), { ok: true }) },
      ]),
      // Spans go last: the drain's own spans are exported too.
      ShutdownModule.closing(() => bus.close(), () => store.close(), () => dataSource.destroy(), () => tracing.shutdown()),
    ],
  })
  class SchedulerAppModule {}

  const service = await bootService(SchedulerAppModule, { name: 'scheduler', port: config.PORT, host: config.HOST, logger, bodyLimit: config.WEFT_API_BODY_LIMIT });
  logger.info('scheduler listening', { url: service.url, tracing: tracing.enabled });
  process.stdout.write(`weft scheduler listening on ${service.url}\n`);
}
