import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { JetStreamBus } from '@weft/bus';
import { ConfigError, loadConfig } from '@weft/config';
import { databaseConfigFromEnv } from '@weft/db';
import { bootService, createLogger, HealthModule, ShutdownModule } from '@weft/platform';
import { analyticsRetentionFromEnv } from './analytics.config';
import { AnalyticsModule } from './analytics.module';
import { openAnalyticsStore } from './persistence/sql-analytics.store';

/** Analytics as its own process: NATS_URL and DATABASE_URL are required. */
export async function main(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const config = loadConfig(env);
  if (!config.NATS_URL) throw new ConfigError([{ variable: 'NATS_URL', message: 'required for the analytics service (use `weft dev` for embedded mode)' }]);
  if (!config.DATABASE_URL) throw new ConfigError([{ variable: 'DATABASE_URL', message: 'required for the analytics service (use `weft dev` for embedded mode)' }]);
  const retention = analyticsRetentionFromEnv(env);
  const logger = createLogger({ level: config.LOG_LEVEL, service: 'analytics' });
  const bus = await JetStreamBus.connect({ servers: config.NATS_URL.split(','), name: 'weft-analytics', prefix: config.WEFT_NATS_PREFIX });
  const { store, dataSource } = await openAnalyticsStore(databaseConfigFromEnv(env), { migrate: config.WEFT_MIGRATE });
  const analytics = AnalyticsModule.forRoot({ bus, store, retention, logger });

  @Module({
    imports: [
      analytics,
      HealthModule.forRoot([
        { name: 'nats', check: () => bus.health() },
        { name: 'postgres', check: async () => (await dataSource.query('select 1'), { ok: true }) },
        AnalyticsModule.readiness(analytics),
      ]),
      ShutdownModule.closing(() => bus.close(), () => store.close(), () => dataSource.destroy()),
    ],
  })
  class AnalyticsAppModule {}

  const service = await bootService(AnalyticsAppModule, { name: 'analytics', port: config.PORT, host: config.HOST, logger });
  logger.info(`weft analytics listening on ${service.url}`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
