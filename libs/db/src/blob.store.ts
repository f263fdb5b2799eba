import { createHash } from 'node:crypto';
import type { BlobRef, BlobStore } from '@weft/contracts';
import type { DataSource } from 'typeorm';

/** Chunk of a blob the API streams at a time (bounded memory whatever the blob's size). */
export const BLOB_CHUNK_BYTES = 1024 * 1024;

/** The id of a blob: sha256 of its bytes, hex (the same bytes are stored once). */
export function blobIdOf(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Blobs in the scheduler's `blobs` table (PostgreSQL or PGlite, raw SQL so a process without the
 * scheduler's entities, such as an executor given DATABASE_URL, can write them). A repeated put
 * of the same bytes writes nothing (ON CONFLICT on the content hash).
 */
export class SqlBlobStore implements BlobStore {
  constructor(private readonly dataSource: DataSource) {}

  async put(namespace: string, bytes: Uint8Array): Promise<BlobRef> {
    const id = blobIdOf(bytes);
    await this.dataSource.query(`INSERT INTO blobs (id, namespace, size, bytes) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING`, [
      id,
      namespace,
      bytes.byteLength,
      Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    ]);
    return { $weftBlob: id, size: bytes.byteLength };
  }

  async get(id: string): Promise<Uint8Array | undefined> {
    const rows = (await this.dataSource.query(`SELECT bytes FROM blobs WHERE id = $1`, [id])) as { bytes: Uint8Array }[];
    return rows[0]?.bytes;
  }

  async size(id: string): Promise<number | undefined> {
    const rows = (await this.dataSource.query(`SELECT size FROM blobs WHERE id = $1`, [id])) as { size: string | number }[];
    return rows[0] === undefined ? undefined : Number(rows[0].size);
  }

  /** One query per chunk (substring on bytea), so neither side holds the whole blob. */
  async *read(id: string, chunkBytes = BLOB_CHUNK_BYTES): AsyncIterable<Uint8Array> {
    const size = await this.size(id);
    if (size === undefined) return;
    for (let offset = 0; offset < size; offset += chunkBytes) {
      const rows = (await this.dataSource.query(`SELECT substring(bytes FROM $2 FOR $3) AS chunk FROM blobs WHERE id = $1`, [id, offset + 1, chunkBytes])) as {
        chunk: Uint8Array;
      }[];
      const chunk = rows[0]?.chunk;
      if (chunk === undefined || chunk.byteLength === 0) return;
      yield chunk;
    }
  }
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
