import { POSTGRES_TEST_URL, dropSchema, postgresReachable, randomSchemaName } from '@weft/db';
import { describeSqlAnalyticsStore } from './sql-analytics.store.cases';
import { openAnalyticsStore } from './sql-analytics.store';

const reachable = postgresReachable();
const runSuite = reachable || process.env.CI === 'true';
if (!runSuite) {
  console.warn(`\n!!! PostgreSQL is not reachable at ${POSTGRES_TEST_URL}: SKIPPING the analytics store integration tests (they run, and fail, under CI=true) !!!\n`);
}

(runSuite ? describe : describe.skip)('analytics store on PostgreSQL', () => {
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
