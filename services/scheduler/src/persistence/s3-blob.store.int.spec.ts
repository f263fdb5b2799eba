import { InMemoryBus } from '@weft/bus';
import { loadConfig } from '@weft/config';
import type { WorkflowSpec } from '@weft/core';
import { type Blobs, blobIdOf, blobsOf, PgliteDatabase, S3RequestError } from '@weft/db';
import { randomSchemaName, type S3TestServer, startS3TestServer } from '@weft/db/testing';
import { AwsClient } from 'aws4fetch';
import type { DataSource } from 'typeorm';
import { Scheduler } from '../scheduler';
import { openSqlRunStore } from './sql-run.store';
import type { SqlRunStore } from './sql-run.store';

/**
 * WEFT_BLOB_URL against a real S3-compatible server (s3rver, in this process; it checks the access
 * key id, not SigV4 signatures) with the metadata in PGlite: where objects go, who owns a shared blob, the sweep deleting rows and
 * objects, rows the database store wrote, and failures. The store contract is blob.store.int.spec.ts.
 */

let database: Promise<PgliteDatabase> | undefined;
let server: S3TestServer;
beforeAll(async () => {
  server = await startS3TestServer();
}, 60_000);
afterAll(async () => {
  await server?.close();
  if (database) await (await database).release();
});

interface Opened {
  blobs: Blobs;
  store: SqlRunStore;
  dataSource: DataSource;
  prefix: string;
  close(): Promise<void>;
}

async function open(accessKeyId = server.accessKeyId): Promise<Opened> {
  const pglite = await (database ??= PgliteDatabase.open());
  const schema = randomSchemaName();
  const { store, dataSource } = await openSqlRunStore({ kind: 'pglite', schema }, { pglite });
  const prefix = `s3spec/${schema}/`;
  const config = loadConfig({ WEFT_BLOB_URL: server.blobUrl(prefix), AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: server.secretAccessKey });
  return {
    blobs: blobsOf(dataSource, config),
    store,
    dataSource,
    prefix,
    close: async () => {
      await store.close();
      await dataSource.destroy();
      await pglite.query(`DROP SCHEMA "${schema}" CASCADE`);
    },
  };
}

/** The object at `key`, read straight from the server (status and bytes). */
async function objectAt(key: string): Promise<{ status: number; bytes: Buffer }> {
  const client = new AwsClient({ accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey, service: 's3', region: 'us-east-1' });
  const response = await client.fetch(`${server.endpoint}/${server.bucket}/${key}`);
  return { status: response.status, bytes: Buffer.from(await response.arrayBuffer()) };
}

const json = (tag: string): Buffer => Buffer.from(JSON.stringify({ tag, rows: Array.from({ length: 500 }, (_, i) => `${tag} ${i} é ✓`) }));

describe('S3BlobStore (s3rver, PGlite metadata)', () => {
  let opened: Opened;
  afterEach(() => opened?.close());

  it('puts the bytes at <prefix><namespace>/<sha256>, the row keeps size and namespace with json empty; the first namespace owns a shared blob', async () => {
    opened = await open();
    const bytes = json('a');
    const ref = await opened.blobs.store.put('tenant-a', bytes);
    expect(ref).toEqual({ $weftBlob: blobIdOf(bytes), size: bytes.byteLength });
    const object = await objectAt(`${opened.prefix}tenant-a/${ref.$weftBlob}`);
    expect(object.status).toBe(200);
    expect(object.bytes.equals(bytes)).toBe(true);
    expect(await opened.dataSource.query(`SELECT namespace, size::int AS size, json FROM blobs WHERE id = $1`, [ref.$weftBlob])).toEqual([{ namespace: 'tenant-a', size: bytes.byteLength, json: '' }]);

    // The same bytes from another namespace: same id, the row (and so the object's key) stays tenant-a's.
    expect(await opened.blobs.store.put('tenant-b', bytes)).toEqual(ref);
    expect((await objectAt(`${opened.prefix}tenant-b/${ref.$weftBlob}`)).status).toBe(404);
    expect(Buffer.from((await opened.blobs.store.get(ref.$weftBlob)) ?? []).equals(bytes)).toBe(true);
  }, 60_000);

  it('the sweep deletes old unnamed blobs, row and object, and keeps a run\'s inputs blob and young ones', async () => {
    opened = await open();
    const bus = new InMemoryBus({ onError: () => {} });
    const scheduler = new Scheduler({ bus, store: opened.store, pollIntervalMs: 20, blobs: opened.blobs.store, inlinePayloadBytes: 1024 });
    try {
      const spec: WorkflowSpec = { apiVersion: 'weft/v1', kind: 'Workflow', name: 'sweep', inputs: { text: { type: 'string' } }, steps: [{ id: 'a', action: 'noop' }] };
      const { runId } = await scheduler.startRun({ idempotencyKey: 'sweep-s3', workflow: 'sweep', spec, inputs: { text: 't'.repeat(4_000) } });
      const named = ((await opened.store.getRun(runId))?.inputs as { $weftBlob?: string }).$weftBlob ?? '';
      expect(named).toMatch(/^[0-9a-f]{64}$/);
      const orphan = (await opened.blobs.store.put('default', json('orphan'))).$weftBlob;
      const young = (await opened.blobs.store.put('default', json('young'))).$weftBlob;
      await opened.dataSource.query(`UPDATE blobs SET created_at = now() - interval '2 hours' WHERE id = ANY($1::text[])`, [[named, orphan]]);

      expect(await opened.blobs.sweep(60 * 60_000, 10)).toEqual({ removed: [orphan], next: undefined });
      expect(((await opened.dataSource.query(`SELECT id FROM blobs`)) as { id: string }[]).map((r) => r.id).sort()).toEqual([named, young].sort());
      expect((await objectAt(`${opened.prefix}default/${orphan}`)).status).toBe(404);
      expect((await objectAt(`${opened.prefix}default/${named}`)).status).toBe(200);
      expect((await objectAt(`${opened.prefix}default/${young}`)).status).toBe(200);
      expect(await opened.blobs.store.get(orphan)).toBeUndefined();
    } finally {
      await bus.close();
    }
  }, 60_000);

  it('reads rows the database store wrote from the table; a row whose object is gone is a missing blob', async () => {
    opened = await open();
    const old = json('written before WEFT_BLOB_URL');
    const oldId = blobIdOf(old);
    await opened.dataSource.query(`INSERT INTO blobs (id, namespace, size, json) VALUES ($1, 'default', $2, $3)`, [oldId, old.byteLength, old.toString('utf8')]);
    expect(Buffer.from((await opened.blobs.store.get(oldId)) ?? []).equals(old)).toBe(true);
    // A repeated put of those bytes keeps them in the table (no object written).
    await opened.blobs.store.put('default', old);
    expect((await objectAt(`${opened.prefix}default/${oldId}`)).status).toBe(404);
    expect(Buffer.from((await opened.blobs.store.get(oldId)) ?? []).equals(old)).toBe(true);

    const lost = json('lost');
    const lostId = blobIdOf(lost);
    await opened.dataSource.query(`INSERT INTO blobs (id, namespace, size, json) VALUES ($1, 'default', $2, '')`, [lostId, lost.byteLength]);
    expect(await opened.blobs.store.get(lostId)).toBeUndefined();
    const chunks: Uint8Array[] = [];
    for await (const chunk of opened.blobs.store.read(lostId)) chunks.push(chunk);
    expect(chunks).toEqual([]);
    // A put writes the object again under the row's namespace.
    await opened.blobs.store.put('other', lost);
    expect(Buffer.from((await opened.blobs.store.get(lostId)) ?? []).equals(lost)).toBe(true);
  }, 60_000);

  it('an object larger than its row says is refused while streaming, not returned', async () => {
    opened = await open();
    const bytes = json('grown');
    const ref = await opened.blobs.store.put('default', bytes);
    await opened.dataSource.query(`UPDATE blobs SET size = 10 WHERE id = $1`, [ref.$weftBlob]);
    await expect(opened.blobs.store.get(ref.$weftBlob)).rejects.toThrow(/larger than the 10 bytes recorded/);
  }, 60_000);

  // s3rver checks the access key id but not SigV4 signatures themselves (its V4 check is unimplemented).
  it('an unknown access key fails the put with the S3 status and error code, naming the key but not the credentials', async () => {
    opened = await open('NOT-A-KEY');
    const bytes = json('denied');
    const error = (await opened.blobs.store.put('default', bytes).catch((caught: unknown) => caught)) as S3RequestError;
    expect(error).toBeInstanceOf(S3RequestError);
    expect(error.status).toBe(403);
    expect(error.message).toContain(`${server.bucket}/${opened.prefix}default/${blobIdOf(bytes)}: 403 InvalidAccessKeyId`);
    expect(error.message).not.toContain('NOT-A-KEY');
    expect(error.message).not.toContain(server.secretAccessKey);
  }, 60_000);
});
