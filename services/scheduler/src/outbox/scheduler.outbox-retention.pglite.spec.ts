import { InMemoryBus } from '@weft/bus';
import type { WorkflowSpec } from '@weft/core';
import { PgliteDatabase } from '@weft/db';
import { randomSchemaName } from '@weft/db/testing';
import { builtinActions, createWorker, silentLogger } from '@weft/worker';
import { openSqlRunStore } from '../persistence/sql-run.store';
import { Scheduler } from '../scheduler';
import { runFinished } from '../testing/run-finished.util';
import { waitFor } from '../testing/run-store.fixtures';

let database: Promise<PgliteDatabase> | undefined;
afterAll(async () => {
  if (database) await (await database).release();
});

describe('Scheduler: outbox retention on a SQL store', () => {
  it('deletes what a finished run published once the retention has passed, on its own', async () => {
    const pglite = await (database ??= PgliteDatabase.open());
    const { store, dataSource } = await openSqlRunStore({ kind: 'pglite', schema: randomSchemaName() }, { pglite });
    const bus = new InMemoryBus({ onError: () => {} });
    // The passes' reports: how many published rows each deleted.
    let deleted = 0;
    const logger = { info: (message: string, fields?: Record<string, unknown>) => void (message === 'outbox retention pass' && (deleted += Number(fields?.published))), warn: () => {}, error: () => {} };
    const scheduler = new Scheduler({ bus, store, pollIntervalMs: 20, logger, outboxRetention: { retentionMs: 200, intervalMs: 50 } });
    const worker = createWorker({ bus, queues: ['default'], actions: builtinActions(), logger: silentLogger, announceIntervalMs: 0, shutdownGraceMs: 100 });
    const rows = async (runId: string): Promise<number> => {
      const [row] = (await dataSource.query('SELECT count(*)::int AS total FROM outbox WHERE run_id = $1', [runId])) as { total: number }[];
      return row.total;
    };
    try {
      await scheduler.start();
      await worker.start();
      const spec: WorkflowSpec = { apiVersion: 'weft/v1', kind: 'Workflow', name: 'chain', steps: [{ id: 'a', action: 'noop' }, { id: 'b', needs: ['a'], action: 'noop' }] };
      const { runId } = await scheduler.startRun({ idempotencyKey: 'retention-1', workflow: 'chain', spec, inputs: {} });
      expect((await runFinished(store, runId, 30_000, 20)).status).toBe('completed');
      // Passes started by the scheduler itself delete every row the run published (its dispatches and lifecycle events).
      await waitFor(async () => ((await rows(runId)) === 0 ? true : undefined), "the retention to delete the run's published rows", 30_000);
      // The run did write rows, and the passes are what removed them (6 or more for two steps: 2 dispatches, run and step events).
      expect(deleted).toBeGreaterThanOrEqual(6);
    } finally {
      await worker.stop();
      await scheduler.stop();
      await bus.close();
      await store.close();
      await dataSource.destroy();
    }
  }, 60_000);
});
