import 'reflect-metadata';
import { runProjectionService, type RunServiceOptions, type ServiceHandle } from '@weft/platform';
import type { ServiceStart } from '@weft/telemetry';
import { journalRetentionOf } from './journal.config';
import { JournalModule } from './journal.module';
import { openJournalStore } from './persistence/sql-journal.store';

/** The journal process once tracing is up (see main.ts). */
export function runJournal(start: ServiceStart, options: RunServiceOptions = {}): Promise<ServiceHandle> {
  const retention = journalRetentionOf(start.config);
  return runProjectionService(
    start,
    {
      name: 'journal',
      open: openJournalStore,
      module: ({ bus, store, logger, auth }) => JournalModule.forRoot({ bus, store, ...(retention && { retention }), logger, auth }),
    },
    options,
  );
}
