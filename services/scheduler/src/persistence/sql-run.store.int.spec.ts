import { type DatabaseConfig } from '@weft/db';
import { POSTGRES_TEST_URL, describeWhenReachable, dropSchema, postgresAdminQuery, postgresReachable, randomSchemaName } from '@weft/db/testing';
import { describeRunStoreContract } from '../testing/run-store.contract';
import { type SqlStoresUnderTest, describeSqlRunStoreCases } from '../testing/sql-run.store.cases';
import { type SqlRunStoreOptions, openSqlRunStore } from './sql-run.store';


/** Two stores, each with its own connection pool, on a fresh schema: the row lock is what serialises them. */
async function openPair(options: SqlRunStoreOptions = {}): Promise<SqlStoresUnderTest> {
  const schema = randomSchemaName();
  const config: DatabaseConfig = { kind: 'postgres', url: POSTGRES_TEST_URL, schema };
  const first = await openSqlRunStore(config, options);
  const second = await openSqlRunStore(config, options);
  return {
    store: first.store,
    peer: second.store,
    dataSource: first.dataSource,
    cleanup: async () => {
      await Promise.all([first.store.close(), second.store.close()]);
      await Promise.all([first.dataSource.destroy(), second.dataSource.destroy()]);
      await dropSchema(schema);
    },
  };
}

describeWhenReachable(`SqlRunStore on PostgreSQL (${POSTGRES_TEST_URL})`, [{ what: `PostgreSQL at ${POSTGRES_TEST_URL}`, up: postgresReachable() }], () => {
  describeRunStoreContract('SqlRunStore on PostgreSQL', (options) => openPair(options));

  describeSqlRunStoreCases('PostgreSQL', {
    open: openPair,
    emptySchema: async () => {
      const schema = randomSchemaName();
      await postgresAdminQuery(`CREATE SCHEMA "${schema}"`);
      return { config: { kind: 'postgres', url: POSTGRES_TEST_URL, schema }, drop: () => dropSchema(schema) };
    },
  });
});
