import { type DatabaseConfig, PgliteDatabase, pendingMigrations, runMigrations } from '@weft/db';
import { POSTGRES_TEST_URL, describeWhenReachable, dropSchema, openedForEachTest, postgresReachable, randomSchemaName } from '@weft/db/testing';
import type { DataSource } from 'typeorm';

/** A store on a schema of its own, and how to drop both. */
export interface StoreUnderTest<S> {
  store: S;
  dataSource: DataSource;
  cleanup(): Promise<void>;
}

/** A service's `open…Store(config, { pglite })`: it migrates the schema it is given. */
export type OpenSqlStore<S> = (config: DatabaseConfig, options: { pglite?: PgliteDatabase }) => Promise<{ store: S; dataSource: DataSource }>;

/** Runs a store's cases, titled by where they run, against fresh stores from `open`. */
export type DescribeStoreCases<S> = (where: string, open: () => Promise<StoreUnderTest<S>>) => void;

interface Closable {
  close(): Promise<void>;
}

/**
 * `describe` for a SQL store's cases: each test gets a fresh store from `open` (cleaned up after it),
 * and the first case checks that opening it applied every migration (what they build is each
 * service's schema.snapshot.sql, checked by its <service>-schema.int.spec.ts). The body reads the
 * current test's store with `store()`, its data source with `subject.dataSource`.
 */
export function describeSqlStore<S>(title: string, open: () => Promise<StoreUnderTest<S>>, body: (subject: StoreUnderTest<S>, store: () => S) => void): void {
  describe(title, () => {
    const opened = openedForEachTest(`${title}: the store`, open, (current) => current.cleanup());
    // The body reads these at test time, after beforeEach opened the store.
    const subject: StoreUnderTest<S> = {
      get store() {
        return opened().store;
      },
      get dataSource() {
        return opened().dataSource;
      },
      cleanup: () => opened().cleanup(),
    };

    it('has no pending migrations once opened', async () => {
      expect(await pendingMigrations(subject.dataSource)).toEqual([]);
      expect(await runMigrations(subject.dataSource)).toEqual([]);
    });

    body(subject, () => opened().store);
  });
}

/** The cases on PGlite in memory: one database for the file (starting PGlite takes seconds), a schema per test. */
export function describeStoreOnPglite<S extends Closable>(schemaPrefix: string, open: OpenSqlStore<S>, cases: DescribeStoreCases<S>): void {
  let database: Promise<PgliteDatabase> | undefined;
  const shared = () => (database ??= PgliteDatabase.open());
  afterAll(async () => {
    if (database) await (await database).release();
  });
  cases('PGlite (in memory)', async () => {
    const schema = randomSchemaName(schemaPrefix);
    const { store, dataSource } = await open({ kind: 'pglite', schema }, { pglite: await shared() });
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
}

/** The cases on the test PostgreSQL, a schema per test; skipped loudly when it is down (never under CI). */
export function describeStoreOnPostgres<S extends Closable>(schemaPrefix: string, open: OpenSqlStore<S>, cases: DescribeStoreCases<S>): void {
  describeWhenReachable(`${schemaPrefix} store on PostgreSQL`, [{ what: `PostgreSQL at ${POSTGRES_TEST_URL}`, up: postgresReachable() }], () => {
    cases(`PostgreSQL ${POSTGRES_TEST_URL}`, async () => {
      const schema = randomSchemaName(schemaPrefix);
      const { store, dataSource } = await open({ kind: 'postgres', url: POSTGRES_TEST_URL, schema }, {});
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
}

/**
 * `extra` with getters for a harness's bus, store and data source: they exist once its beforeAll
 * ran, and reading them sooner throws naming the harness.
 */
export function withHarnessParts<B, S, E extends object>(
  name: string,
  current: () => { bus: B | undefined; opened: { store: S; dataSource: DataSource } | undefined },
  extra: E,
): E & { readonly bus: B; readonly store: S; readonly dataSource: DataSource } {
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error(`${name}: the harness is not set up (read outside a test?)`);
    return value;
  };
  return Object.defineProperties(extra, {
    bus: { get: () => ready(current().bus), enumerable: true },
    store: { get: () => ready(current().opened).store, enumerable: true },
    dataSource: { get: () => ready(current().opened).dataSource, enumerable: true },
  }) as E & { readonly bus: B; readonly store: S; readonly dataSource: DataSource };
}
