import { PgliteDatabase, randomSchemaName } from '@weft/db';
import { describeRunStoreContract } from './run-store.contract';
import { type SqlStoresUnderTest, describeSqlRunStoreCases } from './sql-run.store.cases';
import { type SqlRunStoreOptions, openSqlRunStore } from './sql-run.store';

// One embedded database for the file (starting PGlite takes seconds); each test gets its own schema.
let database: Promise<PgliteDatabase> | undefined;
const shared = () => (database ??= PgliteDatabase.open());

afterAll(async () => {
  if (database) await (await database).release();
});

async function openPair(options: SqlRunStoreOptions = {}): Promise<SqlStoresUnderTest> {
  const pglite = await shared();
  const schema = randomSchemaName();
  const first = await openSqlRunStore({ kind: 'pglite', schema }, { ...options, pglite });
  const second = await openSqlRunStore({ kind: 'pglite', schema }, { ...options, pglite });
  return {
    store: first.store,
    peer: second.store,
    dataSource: first.dataSource,
    cleanup: async () => {
      await Promise.all([first.store.close(), second.store.close()]);
      await second.dataSource.destroy();
      await first.dataSource.destroy();
      await pglite.query(`DROP SCHEMA "${schema}" CASCADE`);
    },
  };
}

describeRunStoreContract('SqlRunStore on PGlite (in memory)', () => openPair());

describeSqlRunStoreCases('PGlite (in memory)', {
  open: openPair,
  emptySchema: async () => {
    const pglite = await shared();
    const schema = randomSchemaName();
    return { config: { kind: 'pglite', schema }, pglite, drop: async () => void (await pglite.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)) };
  },
});
