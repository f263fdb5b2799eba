import type { DynamicModule } from '@nestjs/common';
import { AnalyticsModule, analyticsRetentionOf, openAnalyticsStore } from '@weft/analytics';
import type { Bus } from '@weft/bus';
import { databaseConfigOf, type WeftConfig } from '@weft/config';
import type { DatabaseConfig } from '@weft/db';
import { JournalModule, journalRetentionOf, openJournalStore } from '@weft/journal';
import { openSqlRunStore, type RunStore } from '@weft/scheduler';

/** The store `weft dev` keeps (PGlite in WEFT_DATA_DIR, or DATABASE_URL), opened for one embedded run. */
export interface LocalStore {
  store: RunStore;
  /** The journal and analytics, folding the run's events as `weft dev` does. */
  modules: DynamicModule[];
  /** For messages: `PGlite in .weft/data`. */
  description: string;
  /** Resolves once the journal and analytics consumed every event published so far (bounded). */
  settle(bus: Bus, timeoutMs?: number): Promise<boolean>;
  /** After the runtime closed: the journal's and analytics' stores and every data source. */
  close(): Promise<void>;
}

/** False for WEFT_DATA_DIR=memory://: a store in memory outlives nothing, so `weft run` skips it (and PGlite's start-up). */
export const keepsRuns = (config: WeftConfig): boolean => {
  const database = databaseConfigOf(config);
  return database.kind === 'postgres' || database.dataDir !== undefined;
};

export const describeDatabase = (config: DatabaseConfig): string => (config.kind === 'postgres' ? 'PostgreSQL (DATABASE_URL)' : `PGlite in ${config.dataDir ?? 'memory'}`);

/**
 * Opens the local store so `weft run` keeps its runs where `weft history`, `weft runs list`
 * and `weft insights` read them. PGlite admits one process: when `weft dev` (or another
 * `weft run`) holds it, this fails with DbError DB_LOCKED naming the holder.
 */
export async function openLocalStore(config: WeftConfig, bus: Bus): Promise<LocalStore> {
  const database = databaseConfigOf(config);
  const opened: { close(): Promise<void> }[] = [];
  try {
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

/** Every consumer of lifecycle events has nothing pending or in flight: the journal and analytics are caught up. */
async function eventsSettled(bus: Bus, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stats = await bus.consumerStats();
    if (stats.filter((c) => c.filter.startsWith('weft.event')).every((c) => c.pending === 0 && c.ackPending === 0)) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
