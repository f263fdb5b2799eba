import { PgliteDatabase } from '@weft/db';
import { randomSchemaName } from '@weft/db/testing';
import type { RunState } from '@weft/core';
import { bump, message, runningRun, transition } from '../testing/run-store.fixtures';
import type { OutboxRecord, RunDecider } from '../ports/run-store.port';
import { DbClock } from './db-clock';
import { RunBatchWriter } from './run-batch.writer';
import { RunStateCache } from './run-state.cache';
import type { PendingUpdate } from './run-update.batcher';
import { type SqlRunStore, type SqlRunStoreOptions, openSqlRunStore } from './sql-run.store';

// Group commit (RunUpdateBatcher -> RunBatchWriter.commitGroup): updates of many runs that are
// ready while earlier writes are in the database share one statement (runs whose state is
// cached) or one transaction.
let database: PgliteDatabase;
let store: SqlRunStore;
let schema: string;
/** SQL of every statement run (in a transaction or alone), in order. */
let statements: string[];

beforeAll(async () => {
  database = await PgliteDatabase.open();
}, 120_000);

afterAll(async () => {
  await database.release();
});

async function open(options: SqlRunStoreOptions = {}): Promise<void> {
  ({ store } = await openSqlRunStore({ kind: 'pglite', schema }, { pglite: database, markLingerMs: 0, ...options }));
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
}

beforeEach(() => {
  schema = randomSchemaName();
});

afterEach(async () => {
  await store.close();
  await store.dataSource.destroy();
  await database.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
});

const groupLocks = () => statements.filter((sql) => sql.includes('ORDER BY id FOR UPDATE') && !sql.includes('run_write AS')).length;
const groupStatements = () => statements.filter((sql) => sql.includes('locked AS') && sql.includes('run_write AS')).length;

async function createRuns(n: number): Promise<RunState[]> {
  const runs = Array.from({ length: n }, (_, i) => runningRun(`group-${schema}-${i}`));
  for (const run of runs) await store.createRun(`key-${run.runId}`, () => transition(run));
  return runs;
}

describe.each([
  { oneStatementUpdates: true, what: 'in one statement per group' },
  { oneStatementUpdates: false, what: 'in one transaction per group' },
])('SqlRunStore group commit across runs, $what', ({ oneStatementUpdates }) => {
  beforeEach(() => open({ oneStatementUpdates }));

  it('commits updates of many runs that arrive together in fewer writes, each run as if alone', async () => {
    const runs = await createRuns(40);
    statements = [];
    const before = store.writeStats();
    const results = await Promise.all(
      runs.map((run) => store.updateRun(run.runId, (current) => transition(bump(current, 'ingest', { status: 'queued' }), { outbox: [message(run.runId, 1)] }))),
    );
    for (const [i, result] of results.entries()) {
      expect(result?.runId).toBe(runs[i].runId);
      expect(result?.steps.ingest.status).toBe('queued');
    }
    // 40 runs, at most 6 writes in flight: the batches that waited went together.
    if (oneStatementUpdates) {
      expect(groupStatements()).toBeGreaterThan(0);
      expect(statements.filter((sql) => sql.includes('run_write AS')).length).toBeLessThan(40);
      expect(statements).not.toContain('COMMIT');
    } else {
      expect(groupLocks()).toBeGreaterThan(0);
      expect(statements.filter((sql) => sql === 'COMMIT').length).toBeLessThan(40);
    }
    // writeStats counts what was written: 40 batches of one call each, in fewer writes, and how.
    const stats = store.writeStats();
    const delta = (key: string) => (stats[key] ?? 0) - (before[key] ?? 0);
    expect([delta('batches'), delta('calls')]).toEqual([40, 40]);
    expect(delta('writes')).toBeLessThan(40);
    expect(delta('waited')).toBeGreaterThan(0);
    const statementRuns = delta('loneStatements') + delta('groupStatementRuns');
    expect([statementRuns, delta('transactionRuns')]).toEqual(oneStatementUpdates ? [40, 0] : [0, 40]);
    expect(delta('groupStatements') > 0 || delta('transactions') < 40).toBe(true);
    expect(delta('uncached')).toBe(0);
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
          // PostgreSQL refuses \u0000 in jsonb: the statement of this run fails inside the group's statement or transaction.
          transition(bump(current, 'ingest', { status: 'queued' }), { outbox: [message(run.runId, 1, run.runId === poisoned ? { payload: 'nul \u0000' } : {})] }),
        ),
      ),
    );
    expect(oneStatementUpdates ? groupStatements() : groupLocks()).toBeGreaterThan(0);
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

/** A writer of its own (as another replica's) whose cache holds `runs` as stored now, with a clock reading. */
async function cachedWriter(runs: readonly RunState[]): Promise<{ writer: RunBatchWriter; cache: RunStateCache }> {
  const cache = new RunStateCache(100);
  for (const run of runs) cache.remember((await store.getRun(run.runId)) as RunState);
  const clock = new DbClock();
  clock.observe(await store.now());
  return { writer: new RunBatchWriter(store.dataSource, cache, 15_000, undefined, clock), cache };
}

/** commitGroup of one call per run; settles with each call's outcome. */
function commitGroup(writer: RunBatchWriter, decides: readonly (readonly [string, RunDecider, PendingUpdate['claimOutbox']?])[]): Promise<PromiseSettledResult<RunState | undefined>[]> {
  const settled: Promise<RunState | undefined>[] = [];
  const batches = decides.map(([runId, decide, claimOutbox]) => {
    let call: PendingUpdate | undefined;
    settled.push(new Promise((resolve, reject) => (call = { decide, relaxed: false, claimOutbox, resolve, reject })));
    return { runId, calls: [call as PendingUpdate] };
  });
  void writer.commitGroup(batches);
  return Promise.allSettled(settled);
}

/** A decision that queues `notify` and writes an outbox message and a timer named after the seq it saw. */
function queueNotify(seen: number[]): RunDecider {
  return (current) => {
    seen.push(current.seq);
    const n = current.seq;
    return transition(bump(current, 'notify', { status: 'queued', attempt: n }), {
      outbox: [message(current.runId, n)],
      schedule: [{ runId: current.runId, timer: 'step-timeout', stepId: 'notify', attempt: n, fireAt: 4_000_000_000_000 + n }],
      cancel: [{ runId: current.runId, timer: 'step-timeout', stepId: 'validate' }],
    });
  };
}

async function timersOf(runId: string): Promise<{ step_id: string; attempt: number }[]> {
  return store.dataSource.query(`SELECT step_id, attempt FROM timers WHERE run_id = $1 ORDER BY step_id`, [runId]);
}

describe('RunBatchWriter, cached runs of a group in one statement', () => {
  beforeEach(() => open());

  it('writes a group of three cached runs in ONE statement (no transaction), each write of each run committed', async () => {
    const runs = await createRuns(3);
    for (const run of runs) {
      await store.dataSource.query(`INSERT INTO timers (run_id, timer, step_id, attempt, fire_at) VALUES ($1, 'step-timeout', 'validate', 1, now())`, [run.runId]);
    }
    const { writer, cache } = await cachedWriter(runs);
    const seen = runs.map(() => [] as number[]);
    let claimed: readonly OutboxRecord[] = [];
    statements = [];
    const outcomes = await commitGroup(
      writer,
      runs.map((run, i) => [run.runId, queueNotify(seen[i]), i === 1 ? (rows: readonly OutboxRecord[]) => void (claimed = rows) : undefined] as const),
    );
    expect(statements).toHaveLength(1);
    expect(statements[0]).toContain('locked AS');
    for (const [i, run] of runs.entries()) {
      expect(seen[i]).toEqual([run.seq]);
      expect(outcomes[i]).toMatchObject({ status: 'fulfilled', value: { seq: run.seq + 1 } });
      const stored = await store.getRun(run.runId);
      expect(stored?.seq).toBe(run.seq + 1);
      expect(stored?.steps.notify).toMatchObject({ status: 'queued', attempt: run.seq });
      expect(await timersOf(run.runId)).toEqual([{ step_id: 'notify', attempt: run.seq }]);
      expect(cache.at(run.runId, run.seq + 1)).toBeDefined();
    }
    // The claimed run's row went to its caller; the others' are for the relay.
    expect(claimed.map((row) => [row.runId, row.msgId])).toEqual([[runs[1].runId, message(runs[1].runId, runs[1].seq).msgId]]);
    expect((await store.pendingOutbox(10)).map((row) => row.msgId).sort()).toEqual([message(runs[0].runId, runs[0].seq).msgId, message(runs[2].runId, runs[2].seq).msgId].sort());
  });

  it('a run another writer moved on is refused by the statement, leaves no trace of its stale decision, and is decided again under the lock', async () => {
    const runs = await createRuns(3);
    const { writer } = await cachedWriter(runs);
    // The store (another writer) moves the middle run on: the writer's cached state of it is stale.
    const moved = (await store.updateRun(runs[1].runId, (current) => transition(bump(current, 'export', { status: 'running' })))) as RunState;
    const seen = runs.map(() => [] as number[]);
    statements = [];
    const outcomes = await commitGroup(
      writer,
      runs.map((run, i) => [run.runId, queueNotify(seen[i])] as const),
    );
    expect(seen).toEqual([[runs[0].seq], [runs[1].seq, moved.seq], [runs[2].seq]]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    expect(groupStatements()).toBe(1);
    expect(statements).toContain('COMMIT');
    const stored = (await store.getRun(runs[1].runId)) as RunState;
    expect(stored.seq).toBe(moved.seq + 1);
    expect(stored.steps).toMatchObject({ export: { status: 'running' }, notify: { status: 'queued', attempt: moved.seq } });
    expect(await timersOf(runs[1].runId)).toEqual([{ step_id: 'notify', attempt: moved.seq }]);
    const outbox = (await store.pendingOutbox(10)).map((row) => row.msgId).sort();
    expect(outbox).toEqual(runs.map((run, i) => message(run.runId, i === 1 ? moved.seq : run.seq).msgId).sort());
  });

  it('a group with an uncached run goes in one transaction, as before (no statement for some runs and a transaction for the others)', async () => {
    const runs = await createRuns(3);
    const { writer, cache } = await cachedWriter(runs);
    cache.forget(runs[0].runId);
    const seen = runs.map(() => [] as number[]);
    statements = [];
    const outcomes = await commitGroup(
      writer,
      runs.map((run, i) => [run.runId, queueNotify(seen[i])] as const),
    );
    for (const [i, run] of runs.entries()) {
      expect(outcomes[i]).toMatchObject({ status: 'fulfilled', value: { seq: run.seq + 1 } });
      expect(seen[i]).toEqual([run.seq]);
    }
    expect(groupStatements()).toBe(0);
    expect(groupLocks()).toBe(1);
    expect(statements.filter((sql) => sql === 'COMMIT')).toHaveLength(1);
    expect(writer.stats).toMatchObject({ uncached: 1, transactions: 1, transactionRuns: 3, groupStatements: 0, loneStatements: 0 });
  });

  it('a throwing decide fails only its own call; the group still goes in one statement', async () => {
    const runs = await createRuns(3);
    const { writer } = await cachedWriter(runs);
    const settled: Promise<RunState | undefined>[] = [];
    const call = (decide: RunDecider): PendingUpdate => {
      let pending: PendingUpdate | undefined;
      settled.push(new Promise((resolve, reject) => (pending = { decide, relaxed: false, claimOutbox: undefined, resolve, reject })));
      return pending as PendingUpdate;
    };
    const boom: RunDecider = () => {
      throw new Error('boom');
    };
    statements = [];
    void writer.commitGroup(runs.map((run, i) => ({ runId: run.runId, calls: i === 1 ? [call(boom), call(queueNotify([]))] : [call(queueNotify([]))] })));
    const outcomes = await Promise.allSettled(settled);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect(outcomes[1]).toMatchObject({ reason: new Error('boom') });
    expect(statements).toHaveLength(1);
    expect(groupStatements()).toBe(1);
    for (const run of runs) expect((await store.getRun(run.runId))?.seq).toBe(run.seq + 1);
  });
});
