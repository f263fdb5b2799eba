import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PgliteDatabase } from '@weft/db';
import { randomSchemaName } from '@weft/db/testing';
import { message, runningRun, transition } from '../testing/run-store.fixtures';
import { describeRunStoreContract } from '../testing/run-store.contract';
import { type SqlStoresUnderTest, describeSqlRunStoreCases, openStorePair } from '../testing/sql-run.store.cases';
import { SCHEDULER_MIGRATIONS } from './scheduler-schema';
import { type SqlRunStoreOptions, openSqlRunStore } from './sql-run.store';

// One embedded database for the file (starting PGlite takes seconds); each test gets its own schema.
let database: Promise<PgliteDatabase> | undefined;
const shared = () => (database ??= PgliteDatabase.open());

beforeAll(() => shared(), 120_000);

afterAll(async () => {
  if (database) await (await database).release();
});

async function openPair(options: SqlRunStoreOptions = {}): Promise<SqlStoresUnderTest> {
  const pglite = await shared();
  const schema = randomSchemaName();
  return openStorePair({ kind: 'pglite', schema }, { ...options, pglite }, () => pglite.query(`DROP SCHEMA "${schema}" CASCADE`));
}

describeRunStoreContract('SqlRunStore on PGlite (in memory)', (options) => openPair(options));

describeSqlRunStoreCases('PGlite (in memory)', {
  open: openPair,
  emptySchema: async () => {
    const pglite = await shared();
    const schema = randomSchemaName();
    return { config: { kind: 'pglite', schema }, pglite, drop: async () => void (await pglite.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)) };
  },
});

describe('SqlRunStore on PGlite in a data directory', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'weft-pglite-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('keeps runs across a restart (close, reopen the same directory)', async () => {
    // Nested and missing: the directory is created.
    const dataDir = join(root, 'nested', 'data');
    const state = runningRun('run-survives');

    const pglite = await PgliteDatabase.open(dataDir);
    const first = await openSqlRunStore({ kind: 'pglite', dataDir }, { pglite });
    // The same directory opened again in this process shares the instance (two would corrupt it).
    const again = await openSqlRunStore({ kind: 'pglite', dataDir });
    expect(first.applied).toEqual(SCHEDULER_MIGRATIONS.map((m) => m.name));
    expect(again.applied).toEqual([]);
    await first.store.createRun('key-1', () => transition(state, { outbox: [message(state.runId, 1)] }));
    expect(await again.store.getRun(state.runId)).toEqual(state);
    await Promise.all([first.store.close(), again.store.close()]);
    await first.dataSource.destroy();
    await again.dataSource.destroy();
    await pglite.release();
    expect(pglite.isClosed).toBe(true);
    expect((await stat(dataDir)).isDirectory()).toBe(true);

    const reopened = await openSqlRunStore({ kind: 'pglite', dataDir });
    try {
      expect(reopened.applied).toEqual([]);
      expect(await reopened.store.getRun(state.runId)).toEqual(state);
      expect(await reopened.store.createRun('key-1', () => transition(runningRun('other')))).toEqual({ runId: state.runId, created: false });
      expect((await reopened.store.pendingOutbox(10)).map((m) => m.msgId)).toEqual([`${state.runId}:msg:1`]);
    } finally {
      await reopened.store.close();
      await reopened.dataSource.destroy();
    }
  }, 120_000);
});
