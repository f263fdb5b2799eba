import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { JetStreamBus } from '@weft/bus';
import { ConfigError, loadConfig } from '@weft/config';
import { databaseConfigFromEnv } from '@weft/db';
import { bootService, createLogger, HealthModule, ShutdownModule } from '@weft/platform';
import { journalRetentionFromEnv } from './journal.config';
import { JournalModule } from './journal.module';
import { openJournalStore } from './persistence/sql-journal.store';

/** The journal as its own process: NATS_URL and DATABASE_URL are required. */
export async function main(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const config = loadConfig(env);
  if (!config.NATS_URL) throw new ConfigError([{ variable: 'NATS_URL', message: 'required for the journal service (use `weft dev` for embedded mode)' }]);
  if (!config.DATABASE_URL) throw new ConfigError([{ variable: 'DATABASE_URL', message: 'required for the journal service (use `weft dev` for embedded mode)' }]);
  const retention = journalRetentionFromEnv(env);
  const logger = createLogger({ level: config.LOG_LEVEL, service: 'journal' });
  const bus = await JetStreamBus.connect({ servers: config.NATS_URL.split(','), name: 'weft-journal', prefix: config.WEFT_NATS_PREFIX });
  const { store, dataSource } = await openJournalStore(databaseConfigFromEnv(env), { migrate: config.WEFT_MIGRATE });
  const journal = JournalModule.forRoot({ bus, store, ...(retention && { retention }), logger });

  @Module({
    imports: [
      journal,
      HealthModule.forRoot([
        { name: 'nats', check: () => bus.health() },
        { name: 'postgres', check: async () => (await dataSource.query('select 1'), { ok: true }) },
        JournalModule.readiness(journal),
      ]),
      ShutdownModule.closing(() => bus.close(), () => store.close(), () => dataSource.destroy()),
    ],
  })
  class JournalAppModule {}

  const service = await bootService(JournalAppModule, { name: 'journal', port: config.PORT, host: config.HOST, logger });
  logger.info(`weft journal listening on ${service.url}`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
