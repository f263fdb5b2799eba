import { DatabaseConfigError } from './db.errors';

/**
 * Where a service keeps its tables. `postgres` in production; `pglite` (Postgres
 * compiled to WASM, in-process) for embedded mode and tests.
 */
export type DatabaseConfig =
  | {
      kind: 'postgres';
      /** `postgres://user:password@host:port/database` */
      url: string;
      /** Schema holding the tables; created when missing. @default the server's search_path (public) */
      schema?: string;
    }
  | {
      kind: 'pglite';
      /** Directory of the database files, created when missing. undefined: in memory, gone on close. */
      dataDir?: string;
      /** Schema holding the tables, as for postgres (tests isolate themselves this way). @default public */
      schema?: string;
    };

export const DEFAULT_DATA_DIR = '.weft/data';
/** WEFT_DATA_DIR value that selects an in-memory PGlite. */
export const IN_MEMORY_DATA_DIR = 'memory://';

const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]*$/;

/** Throws DatabaseConfigError unless `schema` is a plain lower-case identifier (it is spliced into SQL). */
export function assertSchemaName(schema: string, variable = 'schema'): void {
  if (!SCHEMA_PATTERN.test(schema) || schema.length > 63) {
    throw new DatabaseConfigError(variable, `expected a lower-case identifier such as weft (got ${JSON.stringify(schema)})`);
  }
}

/**
 * DATABASE_URL selects PostgreSQL (WEFT_DB_SCHEMA optional); without it, PGlite in
 * WEFT_DATA_DIR (default `.weft/data`; `memory://` keeps it in memory).
 */
export function databaseConfigFromEnv(env: NodeJS.ProcessEnv = process.env): DatabaseConfig {
  const url = nonEmpty(env.DATABASE_URL);
  const schema = nonEmpty(env.WEFT_DB_SCHEMA);
  if (schema !== undefined) assertSchemaName(schema, 'WEFT_DB_SCHEMA');
  if (url !== undefined) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new DatabaseConfigError('DATABASE_URL', 'expected postgres://user@host:port/database (not a URL)');
    }
    if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
      throw new DatabaseConfigError('DATABASE_URL', `expected a postgres:// or postgresql:// URL (got ${parsed.protocol}//)`);
    }
    if (!parsed.hostname) throw new DatabaseConfigError('DATABASE_URL', 'expected a host, as in postgres://user@host:5432/database');
    return schema === undefined ? { kind: 'postgres', url } : { kind: 'postgres', url, schema };
  }
  const dataDir = nonEmpty(env.WEFT_DATA_DIR) ?? DEFAULT_DATA_DIR;
  if (dataDir.trim() !== dataDir) throw new DatabaseConfigError('WEFT_DATA_DIR', `expected a directory path or memory:// without surrounding spaces (got ${JSON.stringify(dataDir)})`);
  const config: DatabaseConfig = { kind: 'pglite' };
  if (dataDir !== IN_MEMORY_DATA_DIR) config.dataDir = dataDir;
  if (schema !== undefined) config.schema = schema;
  return config;
}

const nonEmpty = (value: string | undefined): string | undefined => (value === undefined || value === '' ? undefined : value);
