import { AnalyticsModule, analyticsRetentionOf, openAnalyticsStore } from '@weft/analytics';
import type { Bus } from '@weft/bus';
import { databaseConfigOf, type WeftConfig } from '@weft/config';
import { JournalModule, journalRetentionOf, openJournalStore } from '@weft/journal';
import { openSqlRunStore } from '@weft/scheduler';
import { describeDatabase, eventsSettled, type LocalStore } from './kept-runs';
import { importKeptRuns } from './kept-runs.import';

/**
 * Opens the local store (PostgreSQL with DATABASE_URL, or PGlite in WEFT_DATA_DIR) so `weft run`
 * keeps its runs where `weft history`, `weft runs list` and `weft insights` read them, the run,
 * the journal and analytics written as it goes (a run killed midway stays `running` there).
 * On PGlite, the runs earlier `weft run`s kept in `<dir>.pending/` go in first, as any opener does;
 * a run that waits for nothing and ends in seconds is kept by keepRunsInFile instead (keeps-in-memory.util).
 */
export async function openLocalStore(config: WeftConfig, bus: Bus): Promise<LocalStore> {
  const database = databaseConfigOf(config);
  const opened: { close(): Promise<void> }[] = [];
  try {
    const kept = await importKeptRuns(database, { migrate: config.WEFT_MIGRATE });
    opened.push(kept);
    const runs = await openSqlRunStore(database, { migrate: config.WEFT_MIGRATE });
    opened.push({ close: () => runs.dataSource.destroy() });
    const journal = await openJournalStore(database, { migrate: config.WEFT_MIGRATE });
    opened.push({ close: async () => (await journal.store.close(), await journal.dataSource.destroy()) });
    const analytics = await openAnalyticsStore(database, { migrate: config.WEFT_MIGRATE });
    opened.push({ close: async () => (await analytics.store.close(), await analytics.dataSource.destroy()) });
    const journalRetention = journalRetentionOf(config);
    return {
      store: runs.store,
      description: describeDatabase(database),
      modules: [
        JournalModule.forRoot({ bus, store: journal.store, ...(journalRetention && { retention: journalRetention }) }),
        AnalyticsModule.forRoot({ bus, store: analytics.store, retention: analyticsRetentionOf(config) }),
      ],
      settle: (target, timeoutMs = 10_000) => eventsSettled(target, timeoutMs),
      close: async () => {
        for (const item of opened.reverse()) await item.close();
      },
    };
  } catch (error) {
    for (const item of opened.reverse()) await item.close().catch(() => undefined);
    throw error;
  }
}
