import { type DataSource } from 'typeorm';
import { createDataSource } from './data-source';
import { Broken1700000000001, NOTES, NoteEntity, Notes1700000000000 } from './testing/data-source.fixtures';
import { DbError } from './db.errors';
import { pendingMigrations, runMigrations } from './migrations';
import { PgliteDatabase } from './pglite/pglite.database';
import { randomSchemaName } from './testing/postgres-test.util';
import { withTransaction } from './transaction.util';

// Starting PGlite takes seconds: one database for the file, a schema per test.
let pglite: PgliteDatabase;
const opened: DataSource[] = [];

beforeAll(async () => {
  pglite = await PgliteDatabase.open();
}, 120_000);

afterEach(async () => {
  for (const ds of opened.splice(0)) if (ds.isInitialized) await ds.destroy();
});

afterAll(async () => {
  await pglite.release();
  expect(pglite.isClosed).toBe(true);
});

async function open(parts: Partial<typeof NOTES> = {}, schema = randomSchemaName()): Promise<DataSource> {
  const ds = await createDataSource({ kind: 'pglite', schema }, { ...NOTES, ...parts, pglite });
  opened.push(ds);
  return ds;
}

const tableExists = async (ds: DataSource, table: string): Promise<boolean> => {
  const rows: { found: string | null }[] = await ds.query('SELECT to_regclass($1)::text AS found', [table]);
  return rows[0].found !== null;
};

describe('createDataSource on PGlite', () => {
  it('creates the schema, applies migrations once, and reports none pending afterwards', async () => {
    const ds = await open();
    expect(await pendingMigrations(ds)).toEqual(['Notes1700000000000']);
    expect(await runMigrations(ds)).toEqual(['Notes1700000000000']);
    expect(await runMigrations(ds)).toEqual([]);
    expect(await pendingMigrations(ds)).toEqual([]);
    await ds.getRepository(NoteEntity).insert({ id: 'n1', body: { text: 'hello', tags: ['a'] } });
    const [note] = await ds.getRepository(NoteEntity).find();
    expect(note.body).toEqual({ text: 'hello', tags: ['a'] });
    expect(note.at).toBeInstanceOf(Date);
    // Raw SQL resolves unqualified names in the configured schema.
    const rows: { n: string }[] = await ds.query('SELECT count(*) AS n FROM notes');
    expect(rows).toEqual([{ n: '1' }]);
  });

  it('rolls back every pending migration when one fails', async () => {
    const ds = await open({ migrations: [Notes1700000000000, Broken1700000000001] });
    const failure = runMigrations(ds);
    await expect(failure).rejects.toBeInstanceOf(DbError);
    await expect(failure).rejects.toMatchObject({ code: 'DB_MIGRATION_FAILED' });
    expect(await tableExists(ds, 'notes')).toBe(false);
    expect(await tableExists(ds, 'half')).toBe(false);
    expect(await pendingMigrations(ds)).toEqual(['Notes1700000000000', 'Broken1700000000001']);
  });

  it('keeps each data source in its own schema on one shared database', async () => {
    const a = await open();
    const b = await open();
    await runMigrations(a);
    await runMigrations(b);
    for (let i = 0; i < 3; i++) {
      await a.query('INSERT INTO notes (id, body) VALUES ($1, $2)', [`a${i}`, JSON.stringify({ i })]);
      await b.query('INSERT INTO notes (id, body) VALUES ($1, $2)', [`b${i}`, JSON.stringify({ i })]);
    }
    const ids = async (ds: DataSource) => ((await ds.query('SELECT id FROM notes ORDER BY id')) as { id: string }[]).map((r) => r.id);
    expect(await ids(a)).toEqual(['a0', 'a1', 'a2']);
    expect(await ids(b)).toEqual(['b0', 'b1', 'b2']);
  });

  it('never lets a second transaction into an open one (PGlite is a single session)', async () => {
    const ds = await open();
    await runMigrations(ds);
    const other = await open({}, ds.driver.schema);
    let second: Promise<void> | undefined;
    await expect(
      withTransaction(ds, async (tx) => {
        await tx.query(`INSERT INTO notes (id, body) VALUES ('first', '{}')`);
        second = withTransaction(other, async (tx2) => {
          await tx2.query(`INSERT INTO notes (id, body) VALUES ('second', '{}')`);
        });
        // Give the second transaction every chance to run inside this one if it could.
        for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
        throw new Error('abort the first');
      }),
    ).rejects.toThrow('abort the first');
    await second;
    expect(await ds.query('SELECT id FROM notes ORDER BY id')).toEqual([{ id: 'second' }]);
  });

  it('answers like node-postgres: int8 and numeric as strings, timestamptz as Date, jsonb parsed', async () => {
    const ds = await open();
    const [row]: Record<string, unknown>[] = await ds.query(
      `SELECT 9007199254740993::int8 AS big, 1.50::numeric AS num, '2026-01-02T03:04:05.678Z'::timestamptz AS at, '{"a":[1,null]}'::jsonb AS doc, true AS flag`,
    );
    expect(row).toEqual({ big: '9007199254740993', num: '1.50', at: new Date('2026-01-02T03:04:05.678Z'), doc: { a: [1, null] }, flag: true });
    const [params]: Record<string, unknown>[] = await ds.query('SELECT $1::jsonb AS doc, $2::bool AS flag, $3::timestamptz AS at', [
      JSON.stringify({ b: 'x' }),
      false,
      '2026-01-02T03:04:05.678Z',
    ]);
    expect(params).toEqual({ doc: { b: 'x' }, flag: false, at: new Date('2026-01-02T03:04:05.678Z') });
  });

  it('drops its reference on destroy; the last reference closes the database', async () => {
    const own = await PgliteDatabase.open();
    const ds = await createDataSource({ kind: 'pglite' }, { ...NOTES, pglite: own });
    await own.release();
    expect(own.isClosed).toBe(false);
    expect(await ds.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    await ds.destroy();
    expect(own.isClosed).toBe(true);
    await expect(own.query('SELECT 1')).rejects.toMatchObject({ code: 'DB_CLOSED' });
  }, 120_000);
});
