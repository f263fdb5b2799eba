import { createHash } from 'node:crypto';
import type { BlobRef, BlobStore } from '@weft/contracts';
import type { DataSource } from 'typeorm';

/** Most bytes of a blob the API holds at a time (one query per chunk; each reads the stored text, so fewer is faster). */
export const BLOB_CHUNK_BYTES = 16 * 1024 * 1024;

/** The id of a blob: sha256 of its bytes, hex (the same bytes are stored once). */
export function blobIdOf(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Blobs in the scheduler's `blobs` table (PostgreSQL or PGlite, raw SQL so a process that does not
 * open the scheduler's store, such as an executor given DATABASE_URL, can write them). A repeated put
 * of the same bytes writes nothing (ON CONFLICT on the content hash).
 */
export class SqlBlobStore implements BlobStore {
  constructor(private readonly dataSource: DataSource) {}

  async put(namespace: string, bytes: Uint8Array): Promise<BlobRef> {
    const id = blobIdOf(bytes);
    // JSON text is valid UTF-8 without NUL (JSON escapes both), so a text column holds it exactly.
    const json = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
    // A repeated put refreshes created_at (the stored text is not rewritten): the sweep's grace then
    // counts from the latest writer, which is about to commit a row naming it.
    await this.dataSource.query(`INSERT INTO blobs (id, namespace, size, json) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET created_at = now()`, [id, namespace, bytes.byteLength, json]);
    return { $weftBlob: id, size: bytes.byteLength };
  }

  async get(id: string): Promise<Uint8Array | undefined> {
    const rows = (await this.dataSource.query(`SELECT json FROM blobs WHERE id = $1`, [id])) as { json: string }[];
    return rows[0] === undefined ? undefined : Buffer.from(rows[0].json, 'utf8');
  }

  async size(id: string): Promise<number | undefined> {
    const rows = (await this.dataSource.query(`SELECT size FROM blobs WHERE id = $1`, [id])) as { size: string | number }[];
    return rows[0] === undefined ? undefined : Number(rows[0].size);
  }

  /**
   * One query per chunk (substring of the text), so neither side holds the whole blob. Chunks are
   * cut in characters (`chunkBytes / 4`, so none exceeds `chunkBytes` of UTF-8) at code point
   * boundaries: their bytes concatenate to the stored bytes exactly.
   */
  async *read(id: string, chunkBytes = BLOB_CHUNK_BYTES): AsyncIterable<Uint8Array> {
    const chars = Math.max(1, Math.floor(chunkBytes / 4));
    for (let offset = 1; ; offset += chars) {
      const rows = (await this.dataSource.query(`SELECT substring(json FROM $2::int FOR $3::int) AS chunk FROM blobs WHERE id = $1`, [id, offset, chars])) as { chunk: string }[];
      const chunk = rows[0]?.chunk;
      if (chunk === undefined || chunk === '') return;
      yield Buffer.from(chunk, 'utf8');
      if (chunk.length < chars) return;
    }
  }
}

/** Where a sweep pass has got to: the last blob it looked at, in (created_at, id) order. */
export interface BlobSweepCursor {
  createdAt: string;
  id: string;
}

/**
 * One bounded step of the blob sweep: looks at the next `batch` blobs older than `graceMs` (database
 * time) after `after`, in (created_at, id) order, and deletes those no run names: not a step's
 * output (forEach items included: each is a step_runs row), not a run's inputs or outputs. A blob
 * becomes unnamed when its run is deleted, or when the attempt or decision that wrote it never
 * committed (a lost result, a failed transaction), or once the one message it carried (a dispatch
 * field) is long gone. The grace covers a writer between its put and the commit that names the
 * blob (put refreshes created_at) and messages still in flight. Each step probes at most `batch`
 * blobs (partial expression indexes of the blob-sweep migration); `next` is undefined at the end.
 * With `deleteObjects` (the S3 store), the rows are deleted in a transaction that deletes their
 * objects before it commits: a put of the same bytes meanwhile waits on the row lock, then writes
 * a new row and object.
 */
export async function sweepUnnamedBlobs(
  dataSource: DataSource,
  graceMs: number,
  batch: number,
  after?: BlobSweepCursor,
  deleteObjects?: (rows: { id: string; namespace: string }[]) => Promise<void>,
): Promise<{ removed: string[]; next: BlobSweepCursor | undefined }> {
  const grace = Math.floor(graceMs);
  const window = (await dataSource.query(
    `SELECT id, created_at::text AS created_at FROM blobs
      WHERE created_at < now() - ($1::bigint * interval '1 millisecond')
        AND ($3::timestamptz IS NULL OR (created_at, id) > ($3::timestamptz, $4::text))
      ORDER BY created_at, id LIMIT $2`,
    [grace, batch, after?.createdAt ?? null, after?.id ?? ''],
  )) as { id: string; created_at: string }[];
  if (window.length === 0) return { removed: [], next: undefined };
  const remove = async (query: (sql: string, params: unknown[]) => Promise<unknown>): Promise<{ id: string; namespace: string }[]> => {
    const rows = (await query(
      `DELETE FROM blobs b WHERE b.id = ANY($2::text[])
          AND b.created_at < now() - ($1::bigint * interval '1 millisecond')
          AND NOT EXISTS (SELECT 1 FROM step_runs s WHERE s.output ? '$weftBlob' AND s.output->>'$weftBlob' = b.id)
          AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.inputs ? '$weftBlob' AND r.inputs->>'$weftBlob' = b.id)
          AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.outputs ? '$weftBlob' AND r.outputs->>'$weftBlob' = b.id)
        RETURNING b.id, b.namespace`,
      [grace, window.map((w) => w.id)],
    )) as unknown;
    // DELETE ... RETURNING answers [rows, count] through TypeORM's postgres driver, rows alone through PGlite's.
    return Array.isArray(rows) && rows.length === 2 && Array.isArray(rows[0]) && typeof rows[1] === 'number' ? (rows[0] as { id: string; namespace: string }[]) : (rows as { id: string; namespace: string }[]);
  };
  const list =
    deleteObjects === undefined
      ? await remove((sql, params) => dataSource.query(sql, params))
      : await dataSource.transaction(async (manager) => {
          const deleted = await remove((sql, params) => manager.query(sql, params));
          await deleteObjects(deleted);
          return deleted;
        });
  const last = window[window.length - 1];
  return { removed: list.map((r) => r.id), next: window.length < batch ? undefined : { createdAt: last.created_at, id: last.id } };
}

/** Blobs in process memory: `weft dev --memory`, `weft run`, tests. */
export class MemoryBlobStore implements BlobStore {
  private readonly blobs = new Map<string, { namespace: string; bytes: Uint8Array }>();

  put(namespace: string, bytes: Uint8Array): Promise<BlobRef> {
    const id = blobIdOf(bytes);
    if (!this.blobs.has(id)) this.blobs.set(id, { namespace, bytes: Uint8Array.from(bytes) });
    return Promise.resolve({ $weftBlob: id, size: bytes.byteLength });
  }

  get(id: string): Promise<Uint8Array | undefined> {
    return Promise.resolve(this.blobs.get(id)?.bytes);
  }

  size(id: string): Promise<number | undefined> {
    return Promise.resolve(this.blobs.get(id)?.bytes.byteLength);
  }

  async *read(id: string, chunkBytes = BLOB_CHUNK_BYTES): AsyncIterable<Uint8Array> {
    const bytes = await this.get(id);
    for (let offset = 0; bytes !== undefined && offset < bytes.byteLength; offset += chunkBytes) yield bytes.subarray(offset, offset + chunkBytes);
  }
}
