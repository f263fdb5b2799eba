import { type DataSource } from 'typeorm';
import { createDataSource } from './data-source';
import { NOTES, NoteEntity } from './testing/data-source.fixtures';
import { pendingMigrations, runMigrations } from './migrations';
import { POSTGRES_TEST_URL, describeWhenReachable, dropSchema, postgresReachable, randomSchemaName } from './testing/postgres-test.util';
import { withTransaction } from './transaction.util';


describeWhenReachable(`createDataSource on PostgreSQL (${POSTGRES_TEST_URL})`, [{ what: `PostgreSQL at ${POSTGRES_TEST_URL}`, up: postgresReachable() }], () => {
  const schemas: string[] = [];
  const opened: DataSource[] = [];

  async function open(schema: string): Promise<DataSource> {
    const ds = await createDataSource({ kind: 'postgres', url: POSTGRES_TEST_URL, schema }, NOTES);
    opened.push(ds);
    return ds;
  }

  const freshSchema = () => {
    const schema = randomSchemaName();
    schemas.push(schema);
    return schema;
  };

  afterEach(async () => {
    for (const ds of opened.splice(0)) if (ds.isInitialized) await ds.destroy();
    for (const schema of schemas.splice(0)) await dropSchema(schema);
  });

  it('creates a missing schema and puts it first on the search_path, for TypeORM and raw SQL alike', async () => {
    const schema = freshSchema();
    const ds = await open(schema);
    expect(await ds.query('SELECT current_schema() AS s')).toEqual([{ s: schema }]);
    expect(await runMigrations(ds)).toEqual(['Notes1700000000000']);
    await ds.getRepository(NoteEntity).insert({ id: 'n1', body: { ok: true } });
    await ds.query(`INSERT INTO notes (id, body) VALUES ('n2', '{}')`);
    const rows: { table_schema: string; n: string }[] = await ds.query(
      `SELECT table_schema, (SELECT count(*) FROM notes)::text AS n FROM information_schema.tables WHERE table_name = 'notes' AND table_schema = $1`,
      [schema],
    );
    expect(rows).toEqual([{ table_schema: schema, n: '2' }]);
    const migrations: { name: string }[] = await ds.query(`SELECT name FROM "${schema}"."notes_migrations"`);
    expect(migrations).toEqual([{ name: 'Notes1700000000000' }]);
  });

  it('applies migrations exactly once when replicas boot together', async () => {
    const schema = freshSchema();
    const replicas = await Promise.all([open(schema), open(schema), open(schema)]);
    const applied = await Promise.all(replicas.map((ds) => runMigrations(ds)));
    expect(applied.flat()).toEqual(['Notes1700000000000']);
    for (const ds of replicas) expect(await pendingMigrations(ds)).toEqual([]);
  });

  it('withTransaction commits on success and rolls back on throw', async () => {
    const ds = await open(freshSchema());
    await runMigrations(ds);
    await withTransaction(ds, (tx) => tx.query(`INSERT INTO notes (id, body) VALUES ('kept', '{}')`));
    await expect(
      withTransaction(ds, async (tx) => {
        await tx.query(`INSERT INTO notes (id, body) VALUES ('lost', '{}')`);
        throw new Error('nope');
      }),
    ).rejects.toThrow('nope');
    expect(await ds.query('SELECT id FROM notes')).toEqual([{ id: 'kept' }]);
  });
});
