import type { RunState } from '@weft/core';
import type { DataSource } from 'typeorm';
import { bump, runningRun, transition } from '../testing/run-store.fixtures';
import type { RunDecider } from '../ports/run-store.port';
import { DbClock } from './db-clock';
import { RunBatchWriter } from './run-batch.writer';
import { RunStateCache } from './run-state.cache';

/** A data source that answers the one-statement write as PostgreSQL does when the seq matched; no transactions. */
function oneStatementDatabase(dbNow: () => number): { dataSource: DataSource; statements: string[] } {
  const statements: string[] = [];
  const dataSource = {
    query: (sql: string) => {
      statements.push(sql);
      return Promise.resolve([{ runs: 1, now: new Date(dbNow()) }]);
    },
    transaction: () => Promise.reject(new Error('no transaction expected')),
    options: { driver: 'in memory' },
  } as unknown as DataSource;
  return { dataSource, statements };
}

function update(runId: string, decide: RunDecider): Promise<RunState | undefined> {
  return new Promise((resolve, reject) => {
    void writer.commitGroup([{ runId, calls: [{ decide, relaxed: false, claimOutbox: undefined, resolve, reject }] }]);
  });
}

let local = 0;
let writer: RunBatchWriter;

describe('RunBatchWriter, a lone cached run in one statement', () => {
  it('decides at the estimated database time, never before the time the run was last decided at', async () => {
    const cache = new RunStateCache(10);
    const clock = new DbClock(() => local);
    const run = runningRun('r1');
    // Last decided at 5,000 (say under the lock, where the time is read): the estimate lags behind it.
    cache.remember(run, 5_000);
    clock.observe(4_000);
    const { dataSource, statements } = oneStatementDatabase(() => 4_000 + local);
    writer = new RunBatchWriter(dataSource, cache, 1_000, undefined, clock);
    const seen: number[] = [];
    const decide: RunDecider = (current, now) => {
      seen.push(now);
      return transition(bump(current));
    };
    await update('r1', decide);
    local += 2;
    await update('r1', decide);
    local += 3_000;
    await update('r1', decide);
    expect(seen).toEqual([5_000, 5_000, 7_002]);
    expect(statements).toHaveLength(3);
    expect(cache.at('r1', run.seq + 3)).toBeDefined();
    expect(cache.timeOf('r1')).toBe(7_002);
  });

  it('takes the transaction without a recent clock reading', async () => {
    const cache = new RunStateCache(10);
    cache.remember(runningRun('r2'), 5_000);
    const { dataSource, statements } = oneStatementDatabase(() => 0);
    writer = new RunBatchWriter(dataSource, cache, 1_000, undefined, new DbClock(() => local));
    await expect(update('r2', (current) => transition(bump(current)))).rejects.toThrow('no transaction expected');
    expect(statements).toEqual([]);
  });
});
