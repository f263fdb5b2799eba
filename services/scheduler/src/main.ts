import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { JetStreamBus } from '@weft/bus';
import { ConfigError, loadConfig } from '@weft/config';
import { databaseConfigFromEnv } from '@weft/db';
import { bootService, HealthModule, ShutdownModule } from '@weft/platform';
import { openSqlRunStore } from './persistence';
import { SchedulerModule } from './scheduler.module';

/** The scheduler as its own process: NATS_URL and DATABASE_URL are required. */
export async function main(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const config = loadConfig(env);
  if (!config.NATS_URL) throw new ConfigError([{ variable: 'NATS_URL', message: 'required for the scheduler service (use `weft dev` for embedded mode)' }]);
  const bus = await JetStreamBus.connect({
    servers: config.NATS_URL.split(','),
    name: 'weft-scheduler',
    prefix: config.WEFT_NATS_PREFIX,
    ...(config.WEFT_NATS_PULL_EXPIRES_MS !== undefined && { pullExpiresMs: config.WEFT_NATS_PULL_EXPIRES_MS }),
  });
  const { store, dataSource } = await openSqlRunStore(databaseConfigFromEnv(env), {
    migrate: config.WEFT_MIGRATE,
    ...(config.WEFT_OUTBOX_CLAIM_MS !== undefined && { outboxClaimMs: config.WEFT_OUTBOX_CLAIM_MS }),
  });
  const crashBeforePublish = (): void => {
    process.stderr.write('WEFT_TEST_CRASH_AFTER_COMMIT: exiting between commit and publish\n');
    process.exit(86);
  };

  @Module({
    imports: [
      SchedulerModule.forRoot({
        bus,
        store,
        pollIntervalMs: config.WEFT_POLL_INTERVAL_MS,
        leaseMs: config.WEFT_LEASE_MS,
        ...(config.WEFT_TEST_CRASH_AFTER_COMMIT && { beforePublish: crashBeforePublish }),
      }),
      HealthModule.forRoot([
        { name: 'nats', check: () => bus.health() },
        { name: 'postgres', check: async () => (await dataSource.query('select 1'), { ok: true }) },
      ]),
      ShutdownModule.closing(() => bus.close(), () => store.close(), () => dataSource.destroy()),
    ],
  })
  class SchedulerAppModule {}

  const service = await bootService(SchedulerAppModule, { name: 'scheduler', port: config.PORT, host: config.HOST });
  process.stdout.write(`weft scheduler listening on ${service.url}\n`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
