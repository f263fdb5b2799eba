import { WeftError } from '@weft/contracts';

/** Stable, machine-readable reasons a database call fails. */
export type DbErrorCode =
  /** DATABASE_URL, WEFT_DB_SCHEMA or WEFT_DATA_DIR is malformed. */
  | 'DB_CONFIG_INVALID'
  /** The embedded database was used after it was closed. */
  | 'DB_CLOSED'
  /** Another process holds the embedded (PGlite) data directory; the message names it. */
  | 'DB_LOCKED'
  /** A migration failed; the transaction holding all pending migrations was rolled back. */
  | 'DB_MIGRATION_FAILED'
  /** Migrations are pending and this process was told not to apply them (WEFT_MIGRATE=false). */
  | 'DB_MIGRATIONS_PENDING';

export class DbError extends WeftError<DbErrorCode> {}

/** A configuration value is malformed; `variable` names the culprit. */
export class DatabaseConfigError extends DbError {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super('DB_CONFIG_INVALID', `${variable}: ${message}`);
  }
}
