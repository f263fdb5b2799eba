import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { JetStreamBus } from '@weft/bus';
import { ConfigError, loadConfig } from '@weft/config';
import { databaseConfigFromEnv } from '@weft/db';
import { bootService, HealthModule, ShutdownModule } from '@weft/platform';
import { analyticsRetentionFromEnv } from './analytics.config';
import { AnalyticsModule } from './analytics.module';
import { openAnalyticsStore } from './persistence/sql-analytics.store';
import type { AnalyticsLogger } from './transport/analytics-events.handler';

/** Analytics as its own process: NATS_URL and DATABASE_URL are required. */
export async function main(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const config = loadConfig(env);
  if (!config.NATS_URL) throw new ConfigError([{ variable: 'NATS_URL', message: 'required for the analytics service (use `weft dev` for embedded mode)' }]);
  if (!config.DATABASE_URL) throw new ConfigError([{ variable: 'DATABASE_URL', message: 'required for the analytics service (use `weft dev` for embedded mode)' }]);
  const retention = analyticsRetentionFromEnv(env);
  const bus = await JetStreamBus.connect({ servers: config.NATS_URL.split(','), name: 'weft-analytics', prefix: config.WEFT_NATS_PREFIX });
  const { store, dataSource } = await openAnalyticsStore(databaseConfigFromEnv(env), { migrate: config.WEFT_MIGRATE });
  const analytics = AnalyticsModule.forRoot({ bus, store, retention, logger: stderrLogger(config.LOG_LEVEL) });

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

  const service = await bootService(AnalyticsAppModule, { name: 'analytics', port: config.PORT, host: config.HOST });
  process.stdout.write(`weft analytics listening on ${service.url}\n`);
}

/** One JSON line per log record on stderr, at or above `level`. */
function stderrLogger(level: string): AnalyticsLogger {
  const order = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];
  const min = level === 'silent' ? Number.POSITIVE_INFINITY : order.indexOf(level);
  const at = (name: string) => (msg: string, fields?: Record<string, unknown>) => {
    if (order.indexOf(name) < min) return;
    process.stderr.write(`${JSON.stringify({ level: name, service: 'analytics', time: new Date().toISOString(), msg, ...fields })}\n`);
  };
  return { info: at('info'), warn: at('warn'), error: at('error') };
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
