import { PgliteDatabase } from '@weft/db';
import { randomSchemaName } from '@weft/db/testing';
import { describeSqlAnalyticsStore } from './sql-analytics.store.cases';
import { openAnalyticsStore } from './sql-analytics.store';

// One embedded database for the file (starting PGlite takes seconds); each test gets its own schema.
let database: Promise<PgliteDatabase> | undefined;
const shared = () => (database ??= PgliteDatabase.open());

afterAll(async () => {
  if (database) await (await database).release();
});

describeSqlAnalyticsStore('PGlite (in memory)', async () => {
  const schema = randomSchemaName('analytics');
  const { store, dataSource } = await openAnalyticsStore({ kind: 'pglite', schema }, { pglite: await shared() });
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
