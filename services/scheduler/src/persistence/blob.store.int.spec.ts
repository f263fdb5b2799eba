import type { BlobStore } from '@weft/contracts';
import { loadConfig } from '@weft/config';
import { MemoryBlobStore, PgliteDatabase, SqlBlobStore, blobIdOf, blobsOf } from '@weft/db';
import { POSTGRES_TEST_URL, type S3TestServer, describeWhenReachable, dropSchema, openedForEachTest, postgresReachable, randomSchemaName, startS3TestServer } from '@weft/db/testing';
import type { DataSource } from 'typeorm';
import { openSqlRunStore } from './sql-run.store';

interface Opened {
  blobs: BlobStore;
  close: () => Promise<void>;
}

/** The same cases on every store: idempotent puts keyed by content hash, exact bytes back, chunked reads. */
function describeBlobStore(name: string, open: () => Promise<Opened>): void {
  describe(name, () => {
    const opened = openedForEachTest(name, open, (o) => o.close());

    it('stores bytes once under their sha256 and gives them back byte-identical', async () => {
      const bytes = Buffer.from(JSON.stringify({ rows: Array.from({ length: 2000 }, (_, i) => ({ i, name: `row ${i} é ✓` })) }));
      const ref = await opened().blobs.put('tenant-a', bytes);
      expect(ref).toEqual({ $weftBlob: blobIdOf(bytes), size: bytes.byteLength });
      expect(await opened().blobs.put('tenant-a', bytes)).toEqual(ref);
      expect(Buffer.from((await opened().blobs.get(ref.$weftBlob)) ?? []).equals(bytes)).toBe(true);
      expect(await opened().blobs.size(ref.$weftBlob)).toBe(bytes.byteLength);
    });

    it('reads a 3 MB blob in bounded chunks that concatenate to the bytes (multi-byte characters across chunk edges)', async () => {
      const bytes = Buffer.from(JSON.stringify(Array.from({ length: 3 * 1024 * 18 }, (_, i) => `${i} é ✓ 😀 ${'x'.repeat(40)}`)));
      expect(bytes.byteLength).toBeGreaterThan(3 * 1024 * 1024);
      const ref = await opened().blobs.put('default', bytes);
      const chunks: Uint8Array[] = [];
      for await (const chunk of opened().blobs.read(ref.$weftBlob, 1024 * 1024)) chunks.push(chunk);
      expect(Math.max(...chunks.map((c) => c.byteLength))).toBeLessThanOrEqual(1024 * 1024);
      expect(Buffer.concat(chunks).equals(bytes)).toBe(true);
    });

    it('answers undefined and an empty stream for an unknown id', async () => {
      const id = 'f'.repeat(64);
      expect(await opened().blobs.get(id)).toBeUndefined();
      expect(await opened().blobs.size(id)).toBeUndefined();
      const chunks: Uint8Array[] = [];
      for await (const chunk of opened().blobs.read(id)) chunks.push(chunk);
      expect(chunks).toEqual([]);
    });
  });
}

describeBlobStore('MemoryBlobStore', () => Promise.resolve({ blobs: new MemoryBlobStore(), close: () => Promise.resolve() }));

let database: Promise<PgliteDatabase> | undefined;
let s3: Promise<S3TestServer> | undefined;
afterAll(async () => {
  if (database) await (await database).release();
  if (s3) await (await s3).close();
});

/** A store over a fresh schema (the scheduler's tables) on PGlite or PostgreSQL. */
async function openOn(kind: 'pglite' | 'postgres', make: (dataSource: DataSource, schema: string) => Promise<BlobStore>): Promise<Opened> {
  const schema = randomSchemaName();
  const pglite = kind === 'pglite' ? await (database ??= PgliteDatabase.open()) : undefined;
  const { store, dataSource } = pglite ? await openSqlRunStore({ kind: 'pglite', schema }, { pglite }) : await openSqlRunStore({ kind: 'postgres', url: POSTGRES_TEST_URL, schema });
  return {
    blobs: await make(dataSource, schema),
    close: async () => {
      await store.close();
      await dataSource.destroy();
      await (pglite ? pglite.query(`DROP SCHEMA "${schema}" CASCADE`) : dropSchema(schema));
    },
  };
}

// WEFT_BLOB_URL: bytes in a real S3-compatible server (s3rver, in this process), metadata in the blobs table.
const s3Store = async (dataSource: DataSource, schema: string): Promise<BlobStore> => {
  const server = await (s3 ??= startS3TestServer());
  const config = loadConfig({ WEFT_BLOB_URL: server.blobUrl(`contract/${schema}`), WEFT_BLOB_ACCESS_KEY_ID: server.accessKeyId, WEFT_BLOB_SECRET_ACCESS_KEY: server.secretAccessKey });
  return blobsOf(dataSource, config).store;
};
const sqlStore = (dataSource: DataSource): Promise<BlobStore> => Promise.resolve(new SqlBlobStore(dataSource));

describeBlobStore('SqlBlobStore on PGlite', () => openOn('pglite', sqlStore));
describeBlobStore('S3BlobStore (s3rver) with PGlite metadata', () => openOn('pglite', s3Store));

describeWhenReachable(`blob stores on PostgreSQL (${POSTGRES_TEST_URL})`, [{ what: `PostgreSQL at ${POSTGRES_TEST_URL}`, up: postgresReachable() }], () => {
  describeBlobStore('SqlBlobStore on PostgreSQL', () => openOn('postgres', sqlStore));
  describeBlobStore('S3BlobStore (s3rver) with PostgreSQL metadata', () => openOn('postgres', s3Store));
});
