export { type DatabaseConfig, DEFAULT_DATA_DIR, IN_MEMORY_DATA_DIR, assertSchemaName, databaseConfigFromEnv } from './database-config';
export { type DataSourceParts, createDataSource } from './data-source';
export { type DbErrorCode, DatabaseConfigError, DbError } from './db.errors';
export { pendingMigrations, runMigrations } from './migrations';
export { DEFAULT_SEARCH_PATH, PgliteDatabase } from './pglite/pglite.database';
export { type PruneBatch, pruneBatch } from './prune.util';
export { withTransaction } from './transaction.util';
export { isDatabaseUnavailable } from './unavailable.util';
export { POSTGRES_TEST_URL, dropSchema, postgresAdminQuery, postgresReachable, randomSchemaName } from './testing/postgres-test.util';
