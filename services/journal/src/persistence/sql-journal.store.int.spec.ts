import { POSTGRES_TEST_URL, describeWhenReachable, dropSchema, postgresReachable, randomSchemaName } from '@weft/db/testing';
import { describeSqlJournalStore } from './sql-journal.store.cases';
import { openJournalStore } from './sql-journal.store';


describeWhenReachable('journal store on PostgreSQL', [{ what: `PostgreSQL at ${POSTGRES_TEST_URL}`, up: postgresReachable() }], () => {
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
