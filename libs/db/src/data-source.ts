import type { DataSource, DataSourceOptions } from 'typeorm';
import { type DatabaseConfig, assertSchemaName } from './database-config';
import { DEFAULT_SEARCH_PATH, PgliteDatabase } from './pglite/pglite.database';
import { pgliteDriverModule } from './pglite/pglite.driver';
import { sqlState } from './sql-state.util';

export interface DataSourceParts {
  /** Entity classes, for TypeORM repositories. Weft's services pass none: their SQL is raw and their migrations are the schema. @default [] */
  entities?: NonNullable<DataSourceOptions['entities']>;
  /** Hand-written, class-based migrations; applied by `runMigrations`, never by `synchronize`. */
  migrations: NonNullable<DataSourceOptions['migrations']>;
  /** Table recording applied migrations; give each service its own. @default weft_migrations */
  migrationsTableName?: string;
  /** pglite only: open on this database (taking a reference) instead of opening `dataDir`. Two data sources on one in-memory database need it. */
  pglite?: PgliteDatabase;
  /** Log SQL through TypeORM's console logger. @default false */
  logging?: boolean;
}

/**
 * An initialised TypeORM DataSource on PostgreSQL or PGlite. Tables are never
 * synchronised: call `runMigrations`. A configured schema is created
 * when missing and becomes the session's search_path, so raw SQL needs no prefix.
 */
export async function createDataSource(config: DatabaseConfig, parts: DataSourceParts): Promise<DataSource> {
  if (config.schema !== undefined) assertSchemaName(config.schema);
  const common = {
    type: 'postgres' as const,
    entities: parts.entities ?? [],
    migrations: parts.migrations,
    migrationsTableName: parts.migrationsTableName ?? 'weft_migrations',
    migrationsRun: false,
    synchronize: false,
    // gen_random_uuid() is built in since PostgreSQL 13; nothing to install (PGlite has no uuid-ossp).
    installExtensions: false,
    uuidExtension: 'pgcrypto' as const,
    logging: parts.logging ?? false,
    ...(config.schema === undefined ? {} : { schema: config.schema }),
  };

  // Loaded on first use: a process that never opens a database (`weft run` in memory, `weft validate`) does not pay for TypeORM.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { DataSource } = require('typeorm') as typeof import('typeorm');
  let dataSource: DataSource;
  let pglite: PgliteDatabase | undefined;
  switch (config.kind) {
    case 'postgres':
      dataSource = new DataSource({
        ...common,
        url: config.url,
        extra: config.schema === undefined ? {} : { options: `-c search_path=${config.schema}` },
      });
      break;
    case 'pglite':
      pglite = parts.pglite ? parts.pglite.acquire() : await PgliteDatabase.open(config.dataDir);
      dataSource = new DataSource({
        ...common,
        driver: pgliteDriverModule(pglite, config.schema === undefined ? DEFAULT_SEARCH_PATH : `"${config.schema}"`),
      });
      break;
  }

  try {
    await dataSource.initialize();
  } catch (error) {
    // The pool owns the PGlite reference only once TypeORM created it.
    if (dataSource.isInitialized) await dataSource.destroy();
    else if (pglite) await pglite.release();
    throw error;
  }
  if (config.schema !== undefined) {
    try {
      await createSchema(dataSource, config.schema);
    } catch (error) {
      await dataSource.destroy();
      throw error;
    }
  }
  return dataSource;
}

/**
 * `CREATE SCHEMA IF NOT EXISTS` is not safe against itself: replicas booting together
 * can both pass the existence check, and the loser fails on pg_namespace's unique
 * index (23505) or with duplicate_schema (42P06). Either means the schema is there.
 */
async function createSchema(dataSource: DataSource, schema: string): Promise<void> {
  try {
    await dataSource.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  } catch (error) {
    const state = sqlState(error);
    if (state !== '23505' && state !== '42P06') throw error;
  }
}
