import { type DataSource, type EntityManager } from 'typeorm';

/**
 * Runs `work` in one transaction (the server's default isolation, READ COMMITTED):
 * committed when it resolves, rolled back when it throws. Inside, use only the given
 * manager: on PGlite the data source has a single session, and a second query through
 * `dataSource` would wait for this transaction forever.
 */
export function withTransaction<T>(dataSource: DataSource, work: (manager: EntityManager) => Promise<T>): Promise<T> {
  // No isolation level argument: TypeORM would spend a round trip on SET TRANSACTION.
  return dataSource.transaction(work);
}
