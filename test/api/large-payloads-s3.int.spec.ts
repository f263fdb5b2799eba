import { JetStreamBus } from '@weft/bus';
import { loadConfig, type WeftConfig } from '@weft/config';
import { blobsOf, createDataSource } from '@weft/db';
import { POSTGRES_TEST_URL, type S3TestServer, startS3TestServer } from '@weft/db/testing';
import { builtinActions, createWorker, defineAction, silentLogger, type Worker } from '@weft/worker';
import { AwsClient } from 'aws4fetch';
import type { DataSource } from 'typeorm';
import { describeDistributed } from '../distributed/support/infra.util';
import { waitFor } from '../distributed/support/wait.util';
import { type ApiApp, NATS_TEST_URL, startApiApp } from '../support/api-app.harness';

/**
 * Issue 12 item 4 with WEFT_BLOB_URL, on NATS JetStream + PostgreSQL + s3rver (in this process): an
 * executor apart from the scheduler writes a 3 MB step output to the bucket, a dependent step's
 * expression reads a field of it (the scheduler loads it from the bucket), and
 * GET /v1/runs/{id}/steps/{step}/output streams it back byte for byte; another namespace gets 404.
 */

const bigOutput = { rows: Array.from({ length: 3 * 1024 }, (_, i) => ({ i, text: `é✓ ${'x'.repeat(990)}` })), marker: 'in-s3' };
const makeBig = defineAction<Record<string, never>>({ name: 'make-big-s3', handler: () => bigOutput });
const spec = {
  apiVersion: 'weft/v1',
  kind: 'Workflow',
  name: 'big-s3',
  steps: [
    { id: 'big', action: 'make-big-s3' },
    { id: 'read', needs: ['big'], action: 'transform', with: { expr: 'steps.big.output.marker + ":" + string(steps.big.output.rows[7].i)' } },
  ],
};

describeDistributed('large outputs by reference in an S3-compatible bucket (WEFT_BLOB_URL)', { nats: true, postgres: true }, () => {
  let s3: S3TestServer;
  let config: WeftConfig;
  let app: ApiApp;
  let executorBus: JetStreamBus;
  let executorDb: DataSource;
  let worker: Worker;
  const prefix = `e2e-${process.pid}/`;

  beforeAll(async () => {
    s3 = await startS3TestServer();
    config = loadConfig({ WEFT_BLOB_URL: s3.blobUrl(prefix), WEFT_BLOB_ACCESS_KEY_ID: s3.accessKeyId, WEFT_BLOB_SECRET_ACCESS_KEY: s3.secretAccessKey });
    app = await startApiApp({ worker: false, blobs: (dataSource) => blobsOf(dataSource, config).store });
    executorBus = await JetStreamBus.connect({ servers: NATS_TEST_URL, name: `weft-s3-executor-${app.prefix}`, prefix: app.prefix, pullExpiresMs: 2_000, onError: () => undefined });
    // As the executor service opens it: DATABASE_URL without migrations, the blob store from the same config.
    executorDb = await createDataSource({ kind: 'postgres', url: POSTGRES_TEST_URL, schema: app.schema }, { migrations: [] });
    worker = createWorker({
      bus: executorBus,
      queues: ['*'],
      actions: [...builtinActions(), makeBig],
      logger: silentLogger,
      announceIntervalMs: 0,
      blobs: { store: blobsOf(executorDb, config).store, inlinePayloadBytes: 256 * 1024, maxOutputBytes: 100 * 1024 * 1024 },
    });
    await worker.start();
  }, 60_000);

  afterAll(async () => {
    await worker?.stop();
    await executorBus?.close();
    await executorDb?.destroy();
    await app?.close();
    await s3?.close();
  });

  it('a 3 MB output goes to the bucket, a dependent step reads a field of it, the API streams it back byte-identical', async () => {
    const keyA = await app.key('default');
    const keyB = await app.key('team-b');
    const started = await app.request('POST', '/v1/runs/adhoc', { key: keyA, json: { spec } });
    expect(started.status).toBe(202);
    const { runId } = (await started.json()) as { runId: string };
    const run = await waitFor(async () => {
      const body = (await (await app.request('GET', `/v1/runs/${runId}`, { key: keyA })).json()) as { status: string; steps: { id: string; output: unknown }[] };
      return ['completed', 'failed', 'partially_completed', 'canceled', 'timed_out'].includes(body.status) ? body : undefined;
    }, { timeoutMs: 60_000, intervalMs: 100, what: `run ${runId} to end` });
    expect(run.status === 'completed' ? run.status : JSON.stringify(run).slice(0, 2000)).toBe('completed');
    const expected = Buffer.from(JSON.stringify(bigOutput));
    const big = run.steps.find((step) => step.id === 'big');
    expect(big?.output).toEqual({ $weftBlob: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown, size: expected.byteLength, href: `/v1/runs/${runId}/steps/big/output` });
    const id = (big?.output as { $weftBlob: string }).$weftBlob;

    // The bytes are in the bucket; the table holds the metadata only. The executor wrote them: a
    // dispatch carries no namespace, so the row's is empty (as with the database store) and the key's `_`.
    expect(await app.query(`SELECT namespace, size::int AS size, json FROM blobs WHERE id = $1`, [id])).toEqual([{ namespace: '', size: expected.byteLength, json: '' }]);
    const client = new AwsClient({ accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, service: 's3', region: 'us-east-1' });
    const object = await client.fetch(`${s3.endpoint}/${s3.bucket}/${prefix}_/${id}`);
    expect(object.status).toBe(200);
    expect(Buffer.from(await object.arrayBuffer()).equals(expected)).toBe(true);

    const streamed = await app.request('GET', `/v1/runs/${runId}/steps/big/output`, { key: keyA });
    expect(streamed.status).toBe(200);
    expect(streamed.headers.get('content-length')).toBe(String(expected.byteLength));
    expect(Buffer.from(await streamed.arrayBuffer()).equals(expected)).toBe(true);
    expect(await (await app.request('GET', `/v1/runs/${runId}/steps/read/output`, { key: keyA })).json()).toBe('in-s3:7');

    const denied = await app.request('GET', `/v1/runs/${runId}/steps/big/output`, { key: keyB });
    expect(denied.status).toBe(404);
    expect(denied.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  }, 120_000);
});
