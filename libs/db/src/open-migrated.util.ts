import type { DataSource } from 'typeorm';
import { type DatabaseConfig } from './database-config';
import { type DataSourceParts, createDataSource } from './data-source';
import { DbError } from './db.errors';
import { pendingMigrations, runMigrations, schemaIsCurrent } from './migrations';
import type { PgliteDatabase } from './pglite/pglite.database';

export interface OpenMigratedOptions {
  /** Apply pending migrations (true), or fail when any is pending (false). @default true */
  migrate?: boolean;
  /** PGlite only: share this embedded database (the other services' data sources use it too). */
  pglite?: PgliteDatabase;
}

/**
 * Opens a service's data source and applies its migrations or, with `migrate: false`,
 * fails with DB_MIGRATIONS_PENDING naming `schemaLabel` ("the journal's schema") when any
 * is pending. A data source that fails so is destroyed again.
 */
export async function openMigrated(
  config: DatabaseConfig,
  parts: Omit<DataSourceParts, 'pglite'>,
  schemaLabel: string,
  options: OpenMigratedOptions = {},
): Promise<{ dataSource: DataSource; applied: string[] }> {
  const dataSource = await createDataSource(config, { ...parts, ...(options.pglite && { pglite: options.pglite }) });
  try {
    // The usual case (the schema is current): one SELECT instead of the migration executor's lock and reads.
    if (await schemaIsCurrent(dataSource)) return { dataSource, applied: [] };
    if (options.migrate === false) {
      const pending = await pendingMigrations(dataSource);
      if (pending.length > 0) throw new DbError('DB_MIGRATIONS_PENDING', `${schemaLabel} is behind: run \`weft migrate\` (pending: ${pending.join(', ')})`);
      return { dataSource, applied: [] };
    }
    return { dataSource, applied: await runMigrations(dataSource) };
  } catch (error) {
    await dataSource.destroy();
    throw error;
  }
}
