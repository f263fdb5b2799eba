import type { RunState } from '@weft/core';
import { POSTGRES_TEST_URL, describeWhenReachable, dropSchema, postgresReachable, randomSchemaName } from '@weft/db/testing';
import type { DataSource } from 'typeorm';
import { recordStatements } from '../testing/record-statements.util';
import { bump, runningRun, transition } from '../testing/run-store.fixtures';
import { DbClock } from './db-clock';
import { RunBatchWriter } from './run-batch.writer';
import { RunStateCache } from './run-state.cache';
import type { PendingUpdate } from './run-update.batcher';
import { type SqlRunStore, openSqlRunStore } from './sql-run.store';

/** One call per run, in the order given, as one commitGroup; resolves when every call settled. */
function commitGroup(writer: RunBatchWriter, runIds: readonly string[]): Promise<PromiseSettledResult<RunState | undefined>[]> {
  const settled: Promise<RunState | undefined>[] = [];
  const batches = runIds.map((runId) => {
    let call: PendingUpdate | undefined;
    settled.push(new Promise((resolve, reject) => (call = { decide: (current) => transition(bump(current)), relaxed: false, claimOutbox: undefined, resolve, reject })));
    return { runId, calls: [call as PendingUpdate] };
  });
  void writer.commitGroup(batches);
  return Promise.allSettled(settled);
}

describeWhenReachable('RunBatchWriter groups on PostgreSQL, replicas at once', [{ what: `PostgreSQL at ${POSTGRES_TEST_URL}`, up: postgresReachable() }], () => {
  let schema: string;
  let stores: { store: SqlRunStore; dataSource: DataSource }[];

  beforeEach(async () => {
    schema = randomSchemaName();
    const config = { kind: 'postgres' as const, url: POSTGRES_TEST_URL, schema };
    stores = [await openSqlRunStore(config), await openSqlRunStore(config), await openSqlRunStore(config)];
  });

  afterEach(async () => {
    for (const { store, dataSource } of stores) {
      await store.close();
      await dataSource.destroy();
    }
    await dropSchema(schema);
  });

  it('writers updating the same runs in groups (one statement or one transaction each, runs in opposite orders) never deadlock, and every update commits once', async () => {
    const runs = Array.from({ length: 6 }, (_, i) => runningRun(`deadlock-${schema}-${i}`));
    for (const run of runs) await stores[0].store.createRun(`key-${run.runId}`, () => transition(run));
    const recorded = stores.map(({ dataSource }) => recordStatements(dataSource));
    // Two writers that write cached runs in one statement, one without a clock (always the transaction, lockGroup).
    const writers = stores.map(({ dataSource }, i) => {
      const cache = new RunStateCache(100);
      const clock = new DbClock();
      return { cache, clock, dataSource, writer: new RunBatchWriter(dataSource, cache, 15_000, undefined, i < 2 ? clock : undefined) };
    });
    const ids = runs.map((run) => run.runId);
    const orders = [ids, [...ids].reverse(), [...ids.slice(3), ...ids.slice(0, 3)]];
    const rounds = 40;
    for (let round = 0; round < rounds; round++) {
      // Each statement writer's cache holds the runs as stored now: both try the one statement.
      const states = await stores[0].store.listRuns({});
      for (const { cache, clock, dataSource } of writers) {
        for (const state of states) cache.remember(state);
        const [{ now }]: { now: Date }[] = await dataSource.query('SELECT clock_timestamp() AS now');
        clock.observe(now.getTime());
      }
      const outcomes = await Promise.all(writers.map(({ writer }, i) => commitGroup(writer, orders[i] as string[])));
      for (const outcome of outcomes.flat()) expect(outcome.status).toBe('fulfilled');
    }
    expect(recorded.flatMap((r) => r.codes)).toEqual([]);
    // Each round, one statement writer's group went in its one statement (the other's found the runs moved on).
    expect(recorded.flatMap((r) => r.texts).filter((text) => text.includes('locked AS')).length).toBeGreaterThanOrEqual(rounds);
    for (const run of runs) expect((await stores[0].store.getRun(run.runId))?.seq).toBe(run.seq + rounds * writers.length);
  }, 120_000);
});
