import { POSTGRES_TEST_URL, dropSchema, postgresReachable, randomSchemaName } from '@weft/db';
import { describeSqlJournalStore } from './sql-journal.store.cases';
import { openJournalStore } from './sql-journal.store';

const reachable = postgresReachable();
const runSuite = reachable || process.env.CI === 'true';
if (!runSuite) {
  console.warn(`\n!!! PostgreSQL is not reachable at ${POSTGRES_TEST_URL}: SKIPPING the journal store integration tests (they run, and fail, under CI=true) !!!\n`);
}

(runSuite ? describe : describe.skip)('journal store on PostgreSQL', () => {
  describeSqlJournalStore(`PostgreSQL ${POSTGRES_TEST_URL}`, async () => {
    const schema = randomSchemaName('journal');
    const { store, dataSource } = await openJournalStore({ kind: 'postgres', url: POSTGRES_TEST_URL, schema });
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
