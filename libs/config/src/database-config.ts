import type { WeftConfig } from './config';

/**
 * Where a service keeps its tables. `postgres` in production; `pglite` (Postgres
 * compiled to WASM, in-process) for embedded mode and tests. @weft/db opens it.
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

/** WEFT_DATA_DIR value that selects an in-memory PGlite. */
export const IN_MEMORY_DATA_DIR = 'memory://';

/**
 * DATABASE_URL selects PostgreSQL (WEFT_DB_SCHEMA optional); without it, PGlite in
 * WEFT_DATA_DIR (`memory://` keeps it in memory). loadConfig has validated every part.
 */
export function databaseConfigOf(config: WeftConfig): DatabaseConfig {
  const schema = config.WEFT_DB_SCHEMA;
  if (config.DATABASE_URL !== undefined) return { kind: 'postgres', url: config.DATABASE_URL, ...(schema !== undefined && { schema }) };
  return {
    kind: 'pglite',
    ...(config.WEFT_DATA_DIR !== IN_MEMORY_DATA_DIR && { dataDir: config.WEFT_DATA_DIR }),
    ...(schema !== undefined && { schema }),
  };
}
