import { JetStreamBus } from '@weft/bus';
import { createDataSource, SqlBlobStore } from '@weft/db';
import { POSTGRES_TEST_URL } from '@weft/db/testing';
import { WeftClient } from '@weft/sdk';
import { builtinActions, createWorker, defineAction, silentLogger, type Worker } from '@weft/worker';
import type { DataSource } from 'typeorm';
import { describeDistributed } from '../distributed/support/infra.util';
import { type ApiApp, NATS_TEST_URL, startApiApp } from '../support/api-app.harness';

/**
 * Issue 12 item 4 on NATS JetStream + PostgreSQL: a 3 MB and a 20 MB step output go by reference.
 * The executor is apart from the scheduler (its own NATS connection and its own data source with no
 * migrations, as the executor service opens it with DATABASE_URL); the API streams the output back
 * byte for byte and another namespace's key gets 404.
 */

const bigOutput = (mb: number): { rows: { i: number; text: string }[]; marker: string } => ({
  rows: Array.from({ length: mb * 1024 }, (_, i) => ({ i, text: `é✓ ${'x'.repeat(990)}` })),
  marker: `found-${mb}`,
});
const makeBig = defineAction<{ mb: number }>({ name: 'make-big', handler: (input) => bigOutput(input.mb) });

const spec = (mb: number) => ({
  apiVersion: 'weft/v1',
  kind: 'Workflow',
  name: `big-${mb}`,
  steps: [
    { id: 'big', action: 'make-big', with: { mb } },
    { id: 'read', needs: ['big'], action: 'transform', with: { expr: 'steps.big.output.marker + ":" + string(steps.big.output.rows[7].i)' } },
  ],
});

async function until<T>(read: () => Promise<T | undefined>, what: string, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describeDistributed('large outputs by reference', { nats: true, postgres: true }, () => {
  let app: ApiApp;
  let executorBus: JetStreamBus;
  let executorDb: DataSource;
  let worker: Worker;
  let keyA: string;
  let keyB: string;

  beforeAll(async () => {
    app = await startApiApp({ worker: false });
    keyA = await app.key('default');
    keyB = await app.key('team-b');
    executorBus = await JetStreamBus.connect({ servers: NATS_TEST_URL, name: `weft-blob-executor-${app.prefix}`, prefix: app.prefix, pullExpiresMs: 2_000, onError: () => undefined });
    executorDb = await createDataSource({ kind: 'postgres', url: POSTGRES_TEST_URL, schema: app.schema }, { migrations: [] });
    worker = createWorker({
      bus: executorBus,
      queues: ['*'],
      actions: [...builtinActions(), makeBig],
      logger: silentLogger,
      announceIntervalMs: 0,
      blobs: { store: new SqlBlobStore(executorDb), inlinePayloadBytes: 256 * 1024, maxOutputBytes: 100 * 1024 * 1024 },
    });
    await worker.start();
  }, 60_000);

  afterAll(async () => {
    await worker?.stop();
    await executorBus?.close();
    await executorDb?.destroy();
    await app?.close();
  });

  it.each([3, 20])('a %i MB output completes, a dependent step reads a field of it, the API streams it back byte-identical', async (mb) => {
    const t0 = performance.now();
    const started = await app.request('POST', '/v1/runs/adhoc', { key: keyA, json: { spec: spec(mb) } });
    expect(started.status).toBe(202);
    const { runId } = (await started.json()) as { runId: string };
    const run = await until(async () => {
      const response = await app.request('GET', `/v1/runs/${runId}`, { key: keyA });
      const body = (await response.json()) as { status: string };
      return ['completed', 'failed', 'partially_completed', 'canceled', 'timed_out'].includes(body.status) ? body : undefined;
    }, `run ${runId} to end`);
    const ms = Math.round(performance.now() - t0);
    expect(run.status).toBe('completed');
    const expected = Buffer.from(JSON.stringify(bigOutput(mb)));
    // The run view shows the reference summary, not megabytes.
    const view = JSON.stringify(run);
    expect(view.length).toBeLessThan(64 * 1024);
    const big = (run as unknown as { steps: { id: string; output: unknown }[] }).steps.find((step) => step.id === 'big');
    expect(big?.output).toEqual({ $weftBlob: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown, size: expected.byteLength, href: `/v1/runs/${runId}/steps/big/output` });

    const t1 = performance.now();
    const streamed = await app.request('GET', `/v1/runs/${runId}/steps/big/output`, { key: keyA });
    expect(streamed.status).toBe(200);
    expect(streamed.headers.get('content-length')).toBe(String(expected.byteLength));
    const bytes = Buffer.from(await streamed.arrayBuffer());
    const streamMs = Math.round(performance.now() - t1);
    expect(bytes.equals(expected)).toBe(true);

    const read = await app.request('GET', `/v1/runs/${runId}/steps/read/output`, { key: keyA });
    expect(await read.json()).toBe(`found-${mb}:7`);

    // Another namespace cannot read it, by run or by step.
    for (const path of [`/v1/runs/${runId}`, `/v1/runs/${runId}/steps/big/output`]) {
      const denied = await app.request('GET', path, { key: keyB });
      expect(denied.status).toBe(404);
      expect(denied.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    }
    // The SDK fetches the whole value.
    const client = new WeftClient({ url: app.url, apiKey: keyA });
    expect((await client.runs.stepOutput(runId, 'big')) as { marker: string }).toMatchObject({ marker: `found-${mb}` });
    process.stdout.write(`large-payloads: ${mb} MB (${expected.byteLength} bytes) run completed in ${ms} ms on NATS + PostgreSQL, streamed back in ${streamMs} ms\n`);
  }, 120_000);

  it('a missing step or a step without output is 404', async () => {
    const started = await app.request('POST', '/v1/runs/adhoc?mode=sync', { key: keyA, json: { spec: spec(0) } });
    const { runId } = (await started.json()) as { runId: string };
    expect((await app.request('GET', `/v1/runs/${runId}/steps/nope/output`, { key: keyA })).status).toBe(404);
  }, 60_000);
});
