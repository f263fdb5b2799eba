import { PgliteDatabase } from '@weft/db';
import { randomSchemaName } from '@weft/db/testing';
import { describeSqlJournalStore } from './sql-journal.store.cases';
import { openJournalStore } from './sql-journal.store';

// One embedded database for the file (starting PGlite takes seconds); each test gets its own schema.
let database: Promise<PgliteDatabase> | undefined;
const shared = () => (database ??= PgliteDatabase.open());

afterAll(async () => {
  if (database) await (await database).release();
});

describeSqlJournalStore('PGlite (in memory)', async () => {
  const schema = randomSchemaName('journal');
  const { store, dataSource } = await openJournalStore({ kind: 'pglite', schema }, { pglite: await shared() });
  return {
    store,
    dataSource,
    cleanup: async () => {
      await store.close();
      await dataSource.query(`DROP SCHEMA "${schema}" CASCADE`);
      await dataSource.destroy();
    },
  };
});
