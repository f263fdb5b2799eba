import { ConfigError } from '@weft/config';
import { databaseConfigFromEnv } from '@weft/db';
import { openSqlRunStore } from '@weft/scheduler';
import { EXIT } from '../exit-codes';
import type { Io } from '../io';

/** `weft migrate`: applies pending migrations to DATABASE_URL (or the PGlite directory) and exits. */
export async function migrateCommand(io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let dbConfig;
  try {
    dbConfig = databaseConfigFromEnv(env);
  } catch (error) {
    if (error instanceof ConfigError || (error instanceof Error && 'code' in error)) {
      io.err(error.message);
      return EXIT.invalid;
    }
    throw error;
  }
  const { store, dataSource, applied } = await openSqlRunStore(dbConfig, { migrate: true });
  io.out(applied.length > 0 ? `applied ${applied.length} migration(s): ${applied.join(', ')}` : 'database is up to date');
  await store.close();
  await dataSource.destroy();
  return EXIT.ok;
}
