import { PgliteDatabase } from '@weft/db';
import { POSTGRES_TEST_URL, describeWhenReachable, dropSchema, openedForEachTest, postgresReachable, randomSchemaName } from '@weft/db/testing';
import type { SlotStore } from '../ports/slot-store.port';
import { MemorySlotStore } from './memory-slot.store';
import { SqlSlotStore } from './sql-slot.store';
import { openSqlRunStore } from './sql-run.store';

/**
 * Issue 16: the flow-control stores (concurrency slots and their purge; rate-limit TATs) behave
 * the same in memory, on PGlite and on PostgreSQL. On PostgreSQL two stores with their own pools
 * reserve permits of one key at once (two scheduler replicas): the row lock serialises them.
 */
interface Opened {
  /** Two stores on one database (in memory: the same store twice). */
  stores: [SlotStore, SlotStore];
  /** Moves a row's times into the past (SQL) or the clock forward (memory), by `ms`. */
  age(ms: number): Promise<void>;
  close(): Promise<void>;
}

const rate = { namespace: 'ns', scope: 'wf/call', key: 'acme', limit: 10, periodMs: 1_000, burst: 1 };

function describeFlowControlStore(name: string, open: () => Promise<Opened>): void {
  describe(name, () => {
    const opened = openedForEachTest(name, open, (o) => o.close());

    it('reserves rate-limit permits one interval apart, across two stores reserving at once; keys and namespaces apart', async () => {
      const [a, b] = opened().stores;
      const starts = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? a : b).rates.reserve(rate)));
      const sorted = starts.map((s) => s.startAt).sort((x, y) => x - y);
      // Starts follow each other by exactly one interval (100 ms) or more, never less: nobody got a second permit of one place.
      for (let i = 1; i < sorted.length; i++) expect((sorted[i] ?? 0) - (sorted[i - 1] ?? 0)).toBeGreaterThanOrEqual(100 - 0.01);
      // 40 permits at once fill ~3.9 s of the key; another key, and the same key in another namespace, start at once.
      expect((sorted[39] ?? 0) - (sorted[0] ?? 0)).toBeGreaterThanOrEqual(3_900 - 0.5);
      const other = await a.rates.reserve({ ...rate, key: 'globex' });
      const elsewhere = await b.rates.reserve({ ...rate, namespace: 'other' });
      expect(other.startAt).toBeLessThan((sorted[39] ?? 0) - 1_000);
      expect(elsewhere.startAt).toBeLessThan((sorted[39] ?? 0) - 1_000);
    });

    it('a burst lets `burst` permits go at once, then one per interval', async () => {
      const [a] = opened().stores;
      const starts: number[] = [];
      // One permit per 2 s: the calls' own time (a few ms idle, 227 ms once in CI on a loaded machine) stays far below an interval.
      const slow = { ...rate, limit: 1, periodMs: 2_000, burst: 3 };
      for (let i = 0; i < 5; i++) starts.push((await a.rates.reserve(slow)).startAt);
      // The first three go at once (up to the time the store took between calls), the next ones one interval after the TAT.
      expect((starts[2] ?? 0) - (starts[0] ?? 0)).toBeLessThan(1_000);
      expect((starts[3] ?? 0) - (starts[0] ?? 0)).toBeGreaterThanOrEqual(2_000 - 0.5);
      expect((starts[4] ?? 0) - (starts[3] ?? 0)).toBeCloseTo(2_000, 0);
    });

    it('a workflow limit\'s strategies: cancel-newest refuses a request over the limit, cancel-in-progress evicts the oldest holder', async () => {
      const [a] = opened().stores;
      const base = { namespace: 'ns', key: 'k', stepId: '$run', priority: 3, limit: 1 };
      await a.request({ ...base, scope: 'newest', token: 'n1', runId: 'r1', strategy: 'cancel-newest' });
      expect(await a.grant('ns', 'newest', 60_000)).toEqual([{ token: 'n1', runId: 'r1', stepId: '$run' }]);
      await a.request({ ...base, scope: 'newest', token: 'n2', runId: 'r2', strategy: 'cancel-newest' });
      expect(await a.grant('ns', 'newest', 60_000)).toEqual([{ token: 'n2', runId: 'r2', stepId: '$run', canceled: 'over the concurrency limit of 1 for key "k" (cancel-newest)' }]);
      expect((await a.holders('ns', 'newest', 'k')).map((h) => h.token)).toEqual(['n1']);

      await a.request({ ...base, scope: 'progress', token: 'p1', runId: 'r1', strategy: 'cancel-in-progress' });
      await a.grant('ns', 'progress', 60_000);
      await a.request({ ...base, scope: 'progress', token: 'p2', runId: 'r2', strategy: 'cancel-in-progress' });
      await a.request({ ...base, scope: 'progress', token: 'p3', runId: 'r3', strategy: 'cancel-in-progress' });
      const outcome = await a.grant('ns', 'progress', 60_000);
      // The newest wins; the older queued one and the holder are canceled.
      expect(outcome.filter((g) => g.canceled === undefined).map((g) => g.token)).toEqual(['p3']);
      expect(outcome.filter((g) => g.canceled !== undefined).map((g) => g.token).sort()).toEqual(['p1', 'p2']);
      expect((await a.holders('ns', 'progress', 'k')).map((h) => h.token)).toEqual(['p3']);
    });

    it('purges released slot rows past their retention and rate-limit keys whose TAT passed, and nothing else', async () => {
      const [a] = opened().stores;
      const request = { namespace: 'ns', scope: 'wf/s', key: 'k', runId: 'r1', stepId: 's', priority: 3, limit: 1 };
      await a.request({ ...request, token: 't-held' });
      await a.request({ ...request, token: 't-queued' });
      expect((await a.grant('ns', 'wf/s', 60_000)).map((g) => g.token)).toEqual(['t-held']);
      await a.request({ ...request, token: 't-released' });
      await a.release('t-released', request);
      await a.rates.reserve(rate);
      // Nothing is old enough yet.
      expect(await a.purge(3_600_000)).toBe(0);
      expect(await a.rates.purge()).toBe(0);
      await opened().age(2 * 3_600_000);
      expect(await a.purge(3_600_000)).toBe(1);
      expect(await a.rates.purge()).toBe(1);
      // The held and the queued rows are untouched; a purged key starts afresh (at once).
      expect((await a.holders('ns', 'wf/s', 'k')).map((h) => h.token)).toEqual(['t-held']);
      expect(await a.queuedScopes()).toEqual([{ namespace: 'ns', scope: 'wf/s' }]);
      expect(await a.purge(3_600_000)).toBe(0);
    });
  });
}

describeFlowControlStore('MemorySlotStore', async () => {
  let now = 1_000_000;
  const store = new MemorySlotStore(() => now);
  return {
    stores: [store, store],
    age: async (ms) => {
      now += ms;
    },
    close: async () => undefined,
  };
});

/** SQL rows aged by moving their times back (the stores read clock_timestamp(), which a test cannot move). */
const ageRows = (query: (sql: string, params: unknown[]) => Promise<unknown>) => async (ms: number) => {
  const by = [ms];
  await query(`UPDATE concurrency_slots SET requested_at = requested_at - make_interval(secs => $1::double precision / 1000), expires_at = expires_at - make_interval(secs => $1::double precision / 1000) WHERE state = 'released'`, by);
  await query(`UPDATE rate_limits SET tat = tat - make_interval(secs => $1::double precision / 1000)`, by);
};

describe('SqlSlotStore on PGlite', () => {
  let database: PgliteDatabase | undefined;
  afterAll(() => database?.release());
  describeFlowControlStore('PGlite (in memory)', async () => {
    database ??= await PgliteDatabase.open();
    const schema = randomSchemaName('flow');
    const { store, dataSource } = await openSqlRunStore({ kind: 'pglite', schema }, { pglite: database });
    const slots = new SqlSlotStore(dataSource);
    return {
      stores: [slots, slots],
      age: ageRows((sql, params) => dataSource.query(sql, params)),
      close: async () => {
        await store.close();
        await dataSource.query(`DROP SCHEMA "${schema}" CASCADE`);
        await dataSource.destroy();
      },
    };
  });
});

describeWhenReachable(`SqlSlotStore on PostgreSQL (${POSTGRES_TEST_URL})`, [{ what: `PostgreSQL at ${POSTGRES_TEST_URL}`, up: postgresReachable() }], () => {
  describeFlowControlStore('PostgreSQL, two pools', async () => {
    const schema = randomSchemaName('flow');
    const config = { kind: 'postgres' as const, url: POSTGRES_TEST_URL, schema };
    const first = await openSqlRunStore(config);
    const second = await openSqlRunStore(config);
    return {
      stores: [new SqlSlotStore(first.dataSource), new SqlSlotStore(second.dataSource)],
      age: ageRows((sql, params) => first.dataSource.query(sql, params)),
      close: async () => {
        await Promise.all([first.store.close(), second.store.close()]);
        await Promise.all([first.dataSource.destroy(), second.dataSource.destroy()]);
        await dropSchema(schema);
      },
    };
  });
});
