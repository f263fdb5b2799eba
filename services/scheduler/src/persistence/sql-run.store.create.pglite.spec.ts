import { PgliteDatabase } from '@weft/db';
import { randomSchemaName } from '@weft/db/testing';
import type { OutboxRecord } from '../ports/run-store.port';
import { message, runningRun, transition } from '../testing/run-store.fixtures';
import { type SqlRunStore, type SqlRunStoreOptions, openSqlRunStore } from './sql-run.store';

// A run's creation in one autocommit statement after the key lookup (issue 15): the run row, its
// steps and outbox rows in two round trips instead of six, when the store has a recent clock reading.
let database: PgliteDatabase;
let store: SqlRunStore;
/** SQL of every statement the store sent, in order. */
let statements: string[];

beforeAll(async () => {
  database = await PgliteDatabase.open();
}, 120_000);

afterAll(async () => {
  await database.release();
});

async function open(options: SqlRunStoreOptions = {}): Promise<void> {
  ({ store } = await openSqlRunStore({ kind: 'pglite', schema: randomSchemaName() }, { pglite: database, markLingerMs: 0, ...options }));
  statements = [];
  const create = store.dataSource.createQueryRunner.bind(store.dataSource);
  store.dataSource.createQueryRunner = (...args) => {
    const runner = create(...args);
    const query = runner.query.bind(runner);
    runner.query = ((sql: string, ...rest: unknown[]) => {
      statements.push(sql.trim().split(/\s+/)[0].toUpperCase());
      return (query as (sql: string, ...r: unknown[]) => Promise<unknown>)(sql, ...rest);
    }) as typeof runner.query;
    return runner;
  };
}

afterEach(async () => {
  await store.close();
  await store.dataSource.destroy();
});

describe('SqlRunStore.createRun in one statement', () => {
  it('creates a run in one statement after the key lookup once the store has read the clock: run row, steps and claimed outbox rows', async () => {
    await open();
    await store.now();
    statements = [];
    const state = runningRun('one-1');
    const claimed: OutboxRecord[] = [];
    let builtAt: number | undefined;
    const created = await store.createRun('key-one-1', (now) => ((builtAt = now), transition(state, { outbox: [message(state.runId, 1), message(state.runId, 2)] })), {
      claimOutbox: (rows) => claimed.push(...rows),
    });
    expect(created).toEqual({ runId: state.runId, created: true });
    expect(statements).toEqual(['SELECT', 'WITH']);
    expect(builtAt).toEqual(expect.any(Number));
    expect(claimed.map((row) => row.msgId)).toEqual([`${state.runId}:msg:1`, `${state.runId}:msg:2`]);
    // Claimed by this process: the relay does not take them.
    expect(await store.pendingOutbox(10)).toEqual([]);
    expect(await store.getRun(state.runId)).toEqual(state);
  });

  it('a key taken by a run the lookup did not see: the statement writes nothing and names that run', async () => {
    await open();
    await store.now();
    const state = runningRun('key-holder');
    await store.createRun('key-taken', () => transition(state, { outbox: [message(state.runId, 1)] }));
    statements = [];
    // The lookup answers "no run" (as when the holder committed between the lookup and the statement).
    const lookup = store.dataSource.createQueryRunner.bind(store.dataSource);
    let first = true;
    store.dataSource.createQueryRunner = (...args) => {
      const runner = lookup(...args);
      const query = runner.query.bind(runner);
      runner.query = ((sql: string, ...rest: unknown[]) => {
        if (first && sql.startsWith('SELECT id FROM runs WHERE namespace')) {
          first = false;
          return Promise.resolve([]);
        }
        return (query as (sql: string, ...r: unknown[]) => Promise<unknown>)(sql, ...rest);
      }) as typeof runner.query;
      return runner;
    };
    const other = runningRun('latecomer');
    expect(await store.createRun('key-taken', () => transition(other, { outbox: [message(other.runId, 1)] }))).toEqual({ runId: state.runId, created: false });
    // The faked lookup never reached the database: the one statement found the key and wrote nothing.
    expect(statements).toEqual(['WITH']);
    expect(await store.getRun(other.runId)).toBeUndefined();
    expect((await store.pendingOutbox(10)).map((row) => row.runId)).toEqual([state.runId]);
  });

  it('takes the transaction without a clock reading, or with oneStatementUpdates off', async () => {
    await open();
    const first = runningRun('no-reading');
    await store.createRun('key-no-reading', () => transition(first));
    expect(statements).toEqual(['SELECT', 'START', 'SELECT', 'INSERT', 'WITH', 'COMMIT']);
    await store.close();
    await store.dataSource.destroy();

    await open({ oneStatementUpdates: false });
    await store.now();
    statements = [];
    const second = runningRun('off');
    await store.createRun('key-off', () => transition(second));
    expect(statements).toEqual(['SELECT', 'START', 'SELECT', 'INSERT', 'WITH', 'COMMIT']);
    expect(await store.getRun(second.runId)).toEqual(second);
  });
});
