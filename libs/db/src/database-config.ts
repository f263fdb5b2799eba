import { DatabaseConfigError } from './db.errors';

// @weft/config reads DATABASE_URL / WEFT_DATA_DIR / WEFT_DB_SCHEMA and builds the config (databaseConfigOf); this library only opens it.
export type { DatabaseConfig } from '@weft/config';
export { IN_MEMORY_DATA_DIR } from '@weft/config';

export const DEFAULT_DATA_DIR = '.weft/data';

const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]*$/;

/** Throws DatabaseConfigError unless `schema` is a plain lower-case identifier (it is spliced into SQL). */
export function assertSchemaName(schema: string, variable = 'schema'): void {
  if (!SCHEMA_PATTERN.test(schema) || schema.length > 63) {
    throw new DatabaseConfigError(variable, `expected a lower-case identifier such as weft (got ${JSON.stringify(schema)})`);
  }
}

