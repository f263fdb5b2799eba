import { POSTGRES_TEST_URL, describeWhenReachable, dropSchema, postgresReachable, randomSchemaName } from '@weft/db/testing';
import { describeSqlAnalyticsStore } from './sql-analytics.store.cases';
import { openAnalyticsStore } from './sql-analytics.store';


describeWhenReachable('analytics store on PostgreSQL', [{ what: `PostgreSQL at ${POSTGRES_TEST_URL}`, up: postgresReachable() }], () => {
  describeSqlAnalyticsStore(`PostgreSQL ${POSTGRES_TEST_URL}`, async () => {
    const schema = randomSchemaName('analytics');
    const { store, dataSource } = await openAnalyticsStore({ kind: 'postgres', url: POSTGRES_TEST_URL, schema });
    return {
      store,
      dataSource,
      cleanup: async () => {
        await store.close();
        await dataSource.destroy();
        await dropSchema(schema);
      },
    };
  });
});
