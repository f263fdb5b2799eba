import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { JetStreamBus } from '@weft/bus';
import { type WeftConfig } from '@weft/config';
import { databaseConfigFromEnv } from '@weft/db';
import { Authenticator, bootService, createLogger, HealthModule, ShutdownModule, SqlApiKeyRepository } from '@weft/platform';
import type { Tracing } from '@weft/telemetry';
import { analyticsRetentionFromEnv } from './analytics.config';
import { AnalyticsModule } from './analytics.module';
import { openAnalyticsStore } from './persistence/sql-analytics.store';

/** The analytics process once tracing is up (see main.ts). */
export async function runAnalytics(config: WeftConfig & { NATS_URL: string }, env: NodeJS.ProcessEnv, tracing: Tracing): Promise<void> {
  const retention = analyticsRetentionFromEnv(env);
  const logger = createLogger({ level: config.LOG_LEVEL, service: 'analytics' });
  const bus = await JetStreamBus.connect({ servers: config.NATS_URL.split(','), name: 'weft-analytics', prefix: config.WEFT_NATS_PREFIX, replicas: config.WEFT_NATS_REPLICAS });
  const { store, dataSource } = await openAnalyticsStore(databaseConfigFromEnv(env), { migrate: config.WEFT_MIGRATE });
  // API keys live in the scheduler's tables of the same database (`weft migrate` creates every service's); alone, every request needs one.
  const auth = new Authenticator(new SqlApiKeyRepository(dataSource), { anonymous: false });
  const analytics = AnalyticsModule.forRoot({ bus, store, retention, logger, auth });

  @Module({
    imports: [
      analytics,
      HealthModule.forRoot([
        { name: 'nats', check: () => bus.health() },
        { name: 'postgres', check: async () => (await dataSource.query('select 1'), { ok: true }) },
        AnalyticsModule.readiness(analytics),
      ]),
      // Spans go last: the drain's own spans are exported too.
      ShutdownModule.closing(() => bus.close(), () => store.close(), () => dataSource.destroy(), () => tracing.shutdown()),
    ],
  })
  class AnalyticsAppModule {}

  const service = await bootService(AnalyticsAppModule, { name: 'analytics', port: config.PORT, host: config.HOST, logger });
  logger.info(`weft analytics listening on ${service.url}`);
}
