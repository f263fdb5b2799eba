import { PgliteDatabase } from '@weft/db';
import { randomSchemaName } from '@weft/db/testing';
import type { RunState } from '@weft/core';
import { bump, message, runningRun, transition } from '../testing/run-store.fixtures';
import { type SqlRunStore, openSqlRunStore } from './sql-run.store';

// Group commit (RunUpdateBatcher -> RunBatchWriter.commitGroup): updates of many runs that are
// ready while earlier transactions are in the database share one transaction.
let database: PgliteDatabase;
let store: SqlRunStore;
let schema: string;
/** SQL of every statement run inside a transaction, in order. */
let statements: string[];

beforeAll(async () => {
  database = await PgliteDatabase.open();
}, 120_000);

afterAll(async () => {
  await database.release();
});

beforeEach(async () => {
  schema = randomSchemaName();
  ({ store } = await openSqlRunStore({ kind: 'pglite', schema }, { pglite: database, markLingerMs: 0 }));
  statements = [];
  const create = store.dataSource.createQueryRunner.bind(store.dataSource);
  store.dataSource.createQueryRunner = (...args) => {
    const runner = create(...args);
    const query = runner.query.bind(runner);
    runner.query = ((sql: string, ...rest: unknown[]) => {
      statements.push(sql);
      return (query as (sql: string, ...r: unknown[]) => Promise<unknown>)(sql, ...rest);
    }) as typeof runner.query;
    return runner;
  };
});

afterEach(async () => {
  await store.close();
  await store.dataSource.destroy();
  await database.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
});

const groupLocks = () => statements.filter((sql) => sql.includes('ORDER BY id FOR UPDATE')).length;

async function createRuns(n: number): Promise<RunState[]> {
  const runs = Array.from({ length: n }, (_, i) => runningRun(`group-${schema}-${i}`));
  for (const run of runs) await store.createRun(`key-${run.runId}`, () => transition(run));
  return runs;
}

describe('SqlRunStore group commit across runs', () => {
  it('commits updates of many runs that arrive together in fewer transactions, each run as if alone', async () => {
    const runs = await createRuns(40);
    statements = [];
    const results = await Promise.all(
      runs.map((run) => store.updateRun(run.runId, (current) => transition(bump(current, 'ingest', { status: 'queued' }), { outbox: [message(run.runId, 1)] }))),
    );
    for (const [i, result] of results.entries()) {
      expect(result?.runId).toBe(runs[i].runId);
      expect(result?.steps.ingest.status).toBe('queued');
    }
    // 40 runs, at most 6 transactions in flight: the batches that waited went together.
    const commits = statements.filter((sql) => sql === 'COMMIT').length;
    expect(commits).toBeLessThan(40);
    expect(groupLocks()).toBeGreaterThan(0);
    for (const run of runs) {
      const stored = await store.getRun(run.runId);
      expect(stored?.steps.ingest.status).toBe('queued');
      expect(stored?.seq).toBe(run.seq + 1);
    }
    expect((await store.stats()).outboxBacklog).toBe(40);
  });

  it('fails only the run whose write the database refuses; the others of its group commit', async () => {
    const runs = await createRuns(24);
    statements = [];
    const poisoned = runs[runs.length - 1].runId;
    const outcomes = await Promise.allSettled(
      runs.map((run) =>
        store.updateRun(run.runId, (current) =>
          // PostgreSQL refuses \u0000 in jsonb: the statement of this run fails inside the group's transaction.
          transition(bump(current, 'ingest', { status: 'queued' }), { outbox: [message(run.runId, 1, run.runId === poisoned ? { payload: 'nul \u0000' } : {})] }),
        ),
      ),
    );
    expect(groupLocks()).toBeGreaterThan(0);
    for (const [i, outcome] of outcomes.entries()) {
      const run = runs[i];
      const stored = await store.getRun(run.runId);
      if (run.runId === poisoned) {
        expect(outcome.status).toBe('rejected');
        expect(stored?.seq).toBe(run.seq);
      } else {
        expect(outcome.status).toBe('fulfilled');
        expect(stored?.steps.ingest.status).toBe('queued');
        expect(stored?.seq).toBe(run.seq + 1);
      }
    }
    // The poisoned run's cache entry was dropped: its next update loads it and succeeds.
    const next = await store.updateRun(poisoned, (current) => transition(bump(current, 'ingest', { status: 'queued' })));
    expect(next?.seq).toBe(runs[runs.length - 1].seq + 1);
  });
});
