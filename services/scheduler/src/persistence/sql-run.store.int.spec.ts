import { type DatabaseConfig } from '@weft/db';
import { POSTGRES_TEST_URL, describeWhenReachable, dropSchema, postgresAdminQuery, postgresReachable, randomSchemaName } from '@weft/db/testing';
import { describeRunStoreContract } from '../testing/run-store.contract';
import { type SqlStoresUnderTest, describeSqlRunStoreCases, openStorePair } from '../testing/sql-run.store.cases';
import { type SqlRunStoreOptions } from './sql-run.store';

/** Two stores, each with its own connection pool, on a fresh schema. */
function openPair(options: SqlRunStoreOptions = {}): Promise<SqlStoresUnderTest> {
  const schema = randomSchemaName();
  const config: DatabaseConfig = { kind: 'postgres', url: POSTGRES_TEST_URL, schema };
  return openStorePair(config, options, () => dropSchema(schema));
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
