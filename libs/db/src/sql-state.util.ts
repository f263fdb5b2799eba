/** The SQLSTATE of a database error, looked up through TypeORM's `driverError` and `cause` chains. */
export function sqlState(error: unknown): string | undefined {
  for (let current: unknown = error, depth = 0; current !== null && typeof current === 'object' && depth < 4; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
    current = (current as { driverError?: unknown; cause?: unknown }).driverError ?? (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Data PostgreSQL refuses whatever the moment (SQLSTATE class 22, data exception: e.g.
 * \u0000 in jsonb): never worth retrying. Anything else (connection lost, lock timeout,
 * schema not migrated yet) may pass later.
 */
export function isDataException(error: unknown): boolean {
  return sqlState(error)?.startsWith('22') ?? false;
}
