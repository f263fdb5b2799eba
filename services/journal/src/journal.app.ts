import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { JetStreamBus } from '@weft/bus';
import { type WeftConfig } from '@weft/config';
import { databaseConfigFromEnv } from '@weft/db';
import { Authenticator, bootService, createLogger, HealthModule, ShutdownModule, SqlApiKeyRepository } from '@weft/platform';
import type { Tracing } from '@weft/telemetry';
import { journalRetentionFromEnv } from './journal.config';
import { JournalModule } from './journal.module';
import { openJournalStore } from './persistence/sql-journal.store';

/** The journal process once tracing is up (see main.ts). */
export async function runJournal(config: WeftConfig & { NATS_URL: string }, env: NodeJS.ProcessEnv, tracing: Tracing): Promise<void> {
  const retention = journalRetentionFromEnv(env);
  const logger = createLogger({ level: config.LOG_LEVEL, service: 'journal' });
  const bus = await JetStreamBus.connect({ servers: config.NATS_URL.split(','), name: 'weft-journal', prefix: config.WEFT_NATS_PREFIX, replicas: config.WEFT_NATS_REPLICAS });
  const { store, dataSource } = await openJournalStore(databaseConfigFromEnv(env), { migrate: config.WEFT_MIGRATE });
  // API keys live in the scheduler's tables of the same database (`weft migrate` creates every service's); alone, every request needs one.
  const auth = new Authenticator(new SqlApiKeyRepository(dataSource), { anonymous: false });
  const journal = JournalModule.forRoot({ bus, store, ...(retention && { retention }), logger, auth });

  @Module({
    imports: [
      journal,
      HealthModule.forRoot([
        { name: 'nats', check: () => bus.health() },
        { name: 'postgres', check: async () => (await dataSource.query('select 1'), { ok: true }) },
        JournalModule.readiness(journal),
      ]),
      // Spans go last: the drain's own spans are exported too.
      ShutdownModule.closing(() => bus.close(), () => store.close(), () => dataSource.destroy(), () => tracing.shutdown()),
    ],
  })
  class JournalAppModule {}

  const service = await bootService(JournalAppModule, { name: 'journal', port: config.PORT, host: config.HOST, logger });
  logger.info(`weft journal listening on ${service.url}`);
}
