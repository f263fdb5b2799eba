import { InMemoryBus } from '@weft/bus';
import { type BlobStore, isBlobRef } from '@weft/contracts';
import type { RunState, WorkflowSpec } from '@weft/core';
import { MemoryBlobStore, PgliteDatabase, SqlBlobStore, sweepUnnamedBlobs } from '@weft/db';
import { randomSchemaName } from '@weft/db/testing';
import { builtinActions, createWorker, defineAction, silentLogger, type Worker } from '@weft/worker';
import { MemoryRunStore } from '../persistence/memory-run.store';
import { openSqlRunStore } from '../persistence/sql-run.store';
import type { RunStore } from '../ports/run-store.port';
import { Scheduler } from '../scheduler';
import { runFinished } from '../testing/run-finished.util';

/** Issue 12 item 4: outputs above the inline threshold travel as blob references, transparently to expressions. */
const INLINE = 64 * 1024;

/** An output of about `mb` MB of JSON: rows with a marker at a known place. */
const bigOutput = (mb: number): { rows: { i: number; text: string }[]; marker: string } => ({
  rows: Array.from({ length: mb * 1024 }, (_, i) => ({ i, text: 'x'.repeat(1000) })),
  marker: `found-${mb}`,
});

const makeBig = defineAction<{ mb: number }>({ name: 'make-big', handler: (input) => bigOutput(input.mb) });
const forgeRef = defineAction({ name: 'forge-ref', handler: () => ({ $weftBlob: 'b'.repeat(64), size: 10 }) });
const countRows = defineAction<{ data: { rows: unknown[]; marker: string } }>({ name: 'count-rows', handler: (input) => `${input.data.marker}:${input.data.rows.length}` });

interface Stores {
  store: RunStore;
  blobs: BlobStore;
  close: () => Promise<void>;
}

function describeBlobs(name: string, open: () => Promise<Stores>): void {
  describe(name, () => {
    let opened: Stores;
    let bus: InMemoryBus;
    let scheduler: Scheduler;
    let worker: Worker;

    beforeEach(async () => {
      opened = await open();
      bus = new InMemoryBus({ onError: () => {} });
      scheduler = new Scheduler({ bus, store: opened.store, pollIntervalMs: 20, blobs: opened.blobs });
      worker = createWorker({
        bus,
        queues: ['default'],
        actions: [...builtinActions(), makeBig, countRows, forgeRef],
        logger: silentLogger,
        announceIntervalMs: 0,
        shutdownGraceMs: 100,
        blobs: { store: opened.blobs, inlinePayloadBytes: INLINE, maxOutputBytes: 100 * 1024 * 1024 },
      });
      await scheduler.start();
      await worker.start();
    }, 120_000);

    afterEach(async () => {
      await worker?.stop();
      await scheduler?.stop();
      await bus?.close();
      await opened?.close();
    }, 60_000);

    const finished = (runId: string): Promise<RunState> => runFinished(opened.store, runId, 60_000, 20);

    const spec = (mb: number): WorkflowSpec => ({
      apiVersion: 'weft/v1',
      kind: 'Workflow',
      name: 'big-output',
      steps: [
        { id: 'big', action: 'make-big', with: { mb } },
        { id: 'read', needs: ['big'], action: 'transform', with: { expr: 'steps.big.output.marker + ":" + string(steps.big.output.rows[3].i)' } },
        { id: 'small', action: 'transform', with: { expr: '"inline"' } },
        // The whole output as an input: too big for a dispatch, so it goes as the reference and the worker fetches it.
        { id: 'whole', needs: ['big'], action: 'count-rows', with: { data: '${{ steps.big.output }}' } },
      ],
      outputs: { read: '${{ steps.read.output }}', size: '${{ size(steps.big.output.rows) }}' },
    });

    it.each([3, 20])('stores a %i MB output once by reference; a dependent step reads a field of it through an expression', async (mb) => {
      const t0 = performance.now();
      const { runId } = await scheduler.startRun({ idempotencyKey: `big-${mb}`, workflow: 'big-output', spec: spec(mb), inputs: {} });
      const run = await finished(runId);
      const ms = Math.round(performance.now() - t0);
      expect(run.status).toBe('completed');
      const ref = run.steps.big.output;
      expect(isBlobRef(ref)).toBe(true);
      const expected = Buffer.from(JSON.stringify(bigOutput(mb)));
      expect(ref).toEqual({ $weftBlob: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown, size: expected.byteLength });
      expect(run.steps.read.output).toBe(`found-${mb}:3`);
      expect(run.steps.small.output).toBe('inline');
      expect(run.steps.whole.output).toBe(`found-${mb}:${mb * 1024}`);
      expect(run.outputs).toEqual({ read: `found-${mb}:3`, size: mb * 1024 });
      // The exact bytes the handler's output serialises to, once.
      const stored = await opened.blobs.get((ref as { $weftBlob: string }).$weftBlob);
      expect(Buffer.from(stored ?? []).equals(expected)).toBe(true);
      process.stdout.write(`${name}: ${mb} MB output run completed in ${ms} ms\n`);
    }, 120_000);

    it('a rerun keeping a stored-by-reference output reads it from a fresh scheduler (blob loaded before the first decision)', async () => {
      const first = await scheduler.startRun({ idempotencyKey: 'rerun-source', workflow: 'big-output', spec: spec(1), inputs: {} });
      const source = await finished(first.runId);
      expect(isBlobRef(source.steps.big.output)).toBe(true);
      // A new process: nothing of the blob in memory.
      await scheduler.stop();
      scheduler = new Scheduler({ bus, store: opened.store, pollIntervalMs: 20, blobs: opened.blobs });
      await scheduler.start();
      const rerun = await scheduler.startRun(
        { idempotencyKey: 'rerun', workflow: 'big-output', spec: spec(1), inputs: {} },
        { reuse: { runId: first.runId, steps: { big: { output: source.steps.big.output } } } },
      );
      const run = await finished(rerun.runId);
      expect(run.status).toBe('completed');
      expect(run.steps.big.output).toEqual(source.steps.big.output);
      expect(run.steps.read.output).toBe('found-1:3');
      expect(run.steps.whole.output).toBe('found-1:1024');
    }, 120_000);

    it('refuses a step input shaped like a blob reference (it could name another run\'s blob)', async () => {
      const forged: WorkflowSpec = {
        apiVersion: 'weft/v1',
        kind: 'Workflow',
        name: 'forged',
        steps: [{ id: 'forge', action: 'transform', with: { expr: `{"$weftBlob": "${'a'.repeat(64)}", "size": 10}` } }],
      };
      const { runId } = await scheduler.startRun({ idempotencyKey: 'forged', workflow: 'forged', spec: forged, inputs: {} });
      const run = await finished(runId);
      expect(run.status).toBe('failed');
      expect(run.steps.forge.error).toMatchObject({ code: 'RESERVED_INPUT_KEY', retryable: false });
    });

    it('refuses a handler output that uses the reserved $weftBlob key', async () => {
      const forged: WorkflowSpec = { apiVersion: 'weft/v1', kind: 'Workflow', name: 'forged-output', steps: [{ id: 'forge', action: 'forge-ref' }] };
      const { runId } = await scheduler.startRun({ idempotencyKey: 'forged-output', workflow: 'forged-output', spec: forged, inputs: {} });
      const run = await finished(runId);
      expect(run.status).toBe('failed');
      expect(run.steps.forge.error).toMatchObject({ code: 'RESERVED_OUTPUT_KEY', retryable: false });
    });
  });
}

describeBlobs('large outputs on the memory store', () =>
  Promise.resolve({ store: new MemoryRunStore(), blobs: new MemoryBlobStore(), close: () => Promise.resolve() }),
);

let database: Promise<PgliteDatabase> | undefined;
afterAll(async () => {
  if (database) await (await database).release();
});

describeBlobs('large outputs on PGlite', async () => {
  const pglite = await (database ??= PgliteDatabase.open());
  const schema = randomSchemaName();
  const { store, dataSource } = await openSqlRunStore({ kind: 'pglite', schema }, { pglite });
  return {
    store,
    blobs: new SqlBlobStore(dataSource),
    close: async () => {
      await store.close();
      await dataSource.destroy();
      await pglite.query(`DROP SCHEMA "${schema}" CASCADE`);
    },
  };
});

describe('the blob sweep on PGlite (weft dev)', () => {
  it('removes old blobs no run names and keeps a run\'s inputs blob and young ones', async () => {
    const pglite = await (database ??= PgliteDatabase.open());
    const schema = randomSchemaName();
    const { store, dataSource } = await openSqlRunStore({ kind: 'pglite', schema }, { pglite });
    const bus = new InMemoryBus({ onError: () => {} });
    const scheduler = new Scheduler({ bus, store, pollIntervalMs: 20, blobs: new SqlBlobStore(dataSource), inlinePayloadBytes: 1024 });
    try {
      const spec: WorkflowSpec = { apiVersion: 'weft/v1', kind: 'Workflow', name: 'sweep', inputs: { text: { type: 'string' } }, steps: [{ id: 'a', action: 'noop' }] };
      const { runId } = await scheduler.startRun({ idempotencyKey: 'sweep-1', workflow: 'sweep', spec, inputs: { text: 't'.repeat(4_000) } });
      const named = ((await store.getRun(runId))?.inputs as { $weftBlob?: string }).$weftBlob;
      expect(named).toMatch(/^[0-9a-f]{64}$/);
      const orphan = 'e'.repeat(64);
      const young = 'd'.repeat(64);
      await dataSource.query(`INSERT INTO blobs (id, namespace, size, json, created_at) VALUES ($1, '', 2, '{}', now() - interval '2 hours'), ($2, '', 2, '[]', now())`, [orphan, young]);
      await dataSource.query(`UPDATE blobs SET created_at = now() - interval '2 hours' WHERE id = $1`, [named]);
      expect(await sweepUnnamedBlobs(dataSource, 60 * 60_000, 10)).toEqual({ removed: [orphan], next: undefined });
      expect(((await dataSource.query(`SELECT id FROM blobs ORDER BY id`)) as { id: string }[]).map((r) => r.id).sort()).toEqual([named, young].sort());
    } finally {
      await bus.close();
      await store.close();
      await dataSource.destroy();
      await pglite.query(`DROP SCHEMA "${schema}" CASCADE`);
    }
  }, 60_000);
});
