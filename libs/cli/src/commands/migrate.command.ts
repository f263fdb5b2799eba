import { ConfigError, databaseConfigOf, loadConfig } from '@weft/config';
import { openAnalyticsStore } from '@weft/analytics';
import { openJournalStore } from '@weft/journal';
import { openSqlRunStore } from '@weft/scheduler';
import { openTriggerStore } from '@weft/triggers';
import { EXIT } from '../exit-codes';
import type { Io } from '../io';

/** `weft migrate`: applies pending migrations to DATABASE_URL (or the PGlite directory) and exits. */
export async function migrateCommand(io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let dbConfig;
  try {
    dbConfig = databaseConfigOf(loadConfig(env));
  } catch (error) {
    if (error instanceof ConfigError) {
      io.err(error.message);
      return EXIT.invalid;
    }
    throw error;
  }
  // Each service owns its tables and its migrations table; one after the other, so a
  // PGlite directory is never opened twice at once.
  const owners = [
    ['scheduler', () => openSqlRunStore(dbConfig, { migrate: true })],
    ['journal', () => openJournalStore(dbConfig, { migrate: true })],
    ['analytics', () => openAnalyticsStore(dbConfig, { migrate: true })],
    ['triggers', () => openTriggerStore(dbConfig, { migrate: true })],
  ] as const;
  for (const [owner, open] of owners) {
    const { dataSource, applied } = await open();
    await dataSource.destroy();
    io.out(`${owner}: ${applied.length > 0 ? `applied ${applied.join(', ')}` : 'up to date'}`);
  }
  return EXIT.ok;
}
