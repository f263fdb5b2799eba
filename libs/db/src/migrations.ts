import type { DataSource } from 'typeorm';
import { DbError } from './db.errors';

/** TypeORM's executor, loaded on first use (see createDataSource). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const migrationExecutor = (): typeof import('typeorm').MigrationExecutor => (require('typeorm') as typeof import('typeorm')).MigrationExecutor;

/**
 * Applies pending migrations in one transaction, under an advisory lock so that
 * replicas booting together do not race (the loser waits, then finds nothing to do).
 * Resolves with the names applied, oldest first. `weft migrate` calls this.
 */
export async function runMigrations(dataSource: DataSource): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  const key = lockKey(dataSource);
  try {
    await runner.query('SELECT pg_advisory_lock(hashtext($1))', [key]);
    try {
      const executor = new (migrationExecutor())(dataSource, runner);
      executor.transaction = 'all';
      const applied = await executor.executePendingMigrations();
      return applied.map((migration) => migration.name);
    } catch (error) {
      throw new DbError('DB_MIGRATION_FAILED', `migration failed, nothing was applied: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
      });
    } finally {
      await runner.query('SELECT pg_advisory_unlock(hashtext($1))', [key]);
    }
  } finally {
    await runner.release();
  }
}

/** Names of migrations not yet applied, oldest first (creates the bookkeeping table if missing). */
export async function pendingMigrations(dataSource: DataSource): Promise<string[]> {
  const pending = await new (migrationExecutor())(dataSource).getPendingMigrations();
  return pending.map((migration) => migration.name);
}

/**
 * True when every migration of the data source is recorded as applied: one SELECT, so a
 * process opening a current schema (every `weft run` on the local store) skips the
 * advisory lock, the table lookup and the executor's reads. False when the bookkeeping
 * table is missing or any name is not in it (then `runMigrations` / `pendingMigrations`
 * decide as before).
 */
export async function schemaIsCurrent(dataSource: DataSource): Promise<boolean> {
  const names = dataSource.migrations.map((migration) => migration.name || migration.constructor.name);
  if (names.length === 0) return false;
  const options = dataSource.options;
  const schema = options.type === 'postgres' ? options.schema : undefined;
  const table = `${schema === undefined ? '' : `"${schema}".`}"${options.migrationsTableName ?? 'migrations'}"`;
  try {
    const rows: { name: string }[] = await dataSource.query(`SELECT name FROM ${table}`);
    const applied = new Set(rows.map((row) => row.name));
    return names.every((name) => applied.has(name));
  } catch {
    return false;
  }
}

function lockKey(dataSource: DataSource): string {
  const options = dataSource.options;
  const schema = options.type === 'postgres' ? (options.schema ?? 'public') : 'public';
  return `weft:migrations:${schema}.${options.migrationsTableName ?? 'migrations'}`;
}
