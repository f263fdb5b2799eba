import { PgliteDatabase } from '@weft/db';
import { POSTGRES_TEST_URL, describeWhenReachable, dropSchema, postgresReachable, randomSchemaName } from '@weft/db/testing';
import { silentTriggersLogger } from '../ports/triggers-logger.port';
import { PruneFiresUseCase } from '../usecases/prune-fires.usecase';
import { openTriggerStore, type SqlTriggerStore } from './sql-trigger.store';

interface Opened {
  store: SqlTriggerStore;
  close(): Promise<void>;
}

const DAY = 86_400_000;

/** Fire log retention (WEFT_TRIGGER_FIRE_RETENTION) on one database. */
function describeFireRetention(name: string, open: () => Promise<Opened>): void {
  describe(`fire log retention: ${name}`, () => {
    let opened: Opened;
    beforeEach(async () => {
      opened = await open();
    }, 60_000);
    afterEach(async () => {
      await opened?.close();
    });

    /** A fire log row of trigger `trigger` of workflow `wf`, `ageDays` old; its id. */
    const fire = async (trigger: string, occurrence: string, row: { outcome: string; claims?: boolean; published?: boolean; held?: boolean; ageDays?: number }): Promise<string> => {
      const [inserted] = (await opened.store.dataSource.query(
        `INSERT INTO trigger_fires (namespace, workflow, trigger_id, kind, occurrence, claims, outcome, held, published_at, created_at)
         VALUES ('default', 'wf', $1, 'webhook', $2, $3, $4, $5, CASE WHEN $6 THEN now() END, now() - $7::double precision * interval '1 millisecond')
         RETURNING id::text AS id`,
        [trigger, occurrence, row.claims ?? true, row.outcome, row.held ?? false, row.published ?? false, (row.ageDays ?? 0) * DAY],
      )) as { id: string }[];
      return inserted.id;
    };
    const left = async (): Promise<string[]> =>
      ((await opened.store.dataSource.query(`SELECT trigger_id || ':' || occurrence || ':' || outcome AS r FROM trigger_fires ORDER BY id`)) as { r: string }[]).map((row) => row.r);

    it('deletes rows older than the retention, but never one still at work or a trigger\'s last fire', async () => {
      await fire('a', 'o1', { outcome: 'fired', published: true, ageDays: 5 });
      await fire('a', 'o1', { outcome: 'duplicate', claims: false, ageDays: 5 });
      await fire('a', 'o2', { outcome: 'missed', ageDays: 4 });
      await fire('a', 'o3', { outcome: 'fired', published: true, ageDays: 3 });
      await fire('a', 'o4', { outcome: 'missed', ageDays: 2 });
      await fire('b', 'o1', { outcome: 'fired', published: false, ageDays: 5 });
      await fire('b', 'o2', { outcome: 'fired', held: true, ageDays: 5 });
      await fire('b', 'o3', { outcome: 'filtered', claims: false, ageDays: 5 });
      await fire('b', 'o4', { outcome: 'fired', published: true });
      expect(await opened.store.pruneFires(DAY, 100)).toEqual({ deleted: 4, next: undefined });
      expect(await left()).toEqual([
        // a: o3 is its newest fired one, o4 its newest claiming one.
        'a:o3:fired',
        'a:o4:missed',
        // b: o1 is not published yet, o2 is held by overlap, o4 is inside the retention.
        'b:o1:fired',
        'b:o2:fired',
        'b:o4:fired',
      ]);
    });

    it('walks the oldest rows in bounded steps and ends at the first row inside the retention; a pass of PruneFiresUseCase takes every step', async () => {
      const ids = [];
      for (let i = 0; i < 5; i++) ids.push(await fire('c', `f${i}`, { outcome: 'filtered', claims: false, ageDays: 2 }));
      await fire('c', 'new', { outcome: 'filtered', claims: false });
      await fire('c', 'newer', { outcome: 'filtered', claims: false });
      const first = await opened.store.pruneFires(DAY, 2);
      expect(first).toEqual({ deleted: 2, next: ids[1] });
      expect(await opened.store.pruneFires(DAY, 2, first.next)).toEqual({ deleted: 2, next: ids[3] });
      const pass = new PruneFiresUseCase(opened.store, silentTriggersLogger, { retentionMs: DAY, batch: 2 });
      expect(await pass.execute()).toEqual({ fires: 1 });
      expect(await left()).toEqual(['c:new:filtered', 'c:newer:filtered']);
      expect(await new PruneFiresUseCase(opened.store, silentTriggersLogger, { retentionMs: 0 }).execute()).toEqual({ fires: 0 });
    });

    it('runs on its own once started', async () => {
      await fire('d', 'old', { outcome: 'filtered', claims: false, ageDays: 2 });
      const reported: unknown[] = [];
      const pass = new PruneFiresUseCase(opened.store, { info: (_message, fields) => reported.push(fields), error: () => {} }, { retentionMs: DAY, intervalMs: 50 });
      pass.start();
      try {
        const deadline = Date.now() + 20_000;
        while ((await left()).length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
        expect(await left()).toEqual([]);
        expect(reported).toContainEqual({ fires: 1 });
      } finally {
        await pass.stop();
      }
    });
  });
}

let pglite: Promise<PgliteDatabase> | undefined;
afterAll(async () => {
  if (pglite) await (await pglite).release();
});

describeFireRetention('PGlite', async () => {
  const database = await (pglite ??= PgliteDatabase.open());
  const { store, dataSource } = await openTriggerStore({ kind: 'pglite', schema: randomSchemaName() }, { pglite: database });
  return { store, close: () => dataSource.destroy() };
});

describeWhenReachable(`fire log retention on PostgreSQL (${POSTGRES_TEST_URL})`, [{ what: `PostgreSQL at ${POSTGRES_TEST_URL}`, up: postgresReachable() }], () => {
  describeFireRetention('PostgreSQL', async () => {
    const schema = randomSchemaName();
    const { store, dataSource } = await openTriggerStore({ kind: 'postgres', url: POSTGRES_TEST_URL, schema });
    return {
      store,
      close: async () => {
        await dataSource.destroy();
        await dropSchema(schema);
      },
    };
  });
});
