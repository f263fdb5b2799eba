import type { BlobRef, BlobStore } from '@weft/contracts';
import type { BlobStoreConfig } from '@weft/config';
import { AwsClient } from 'aws4fetch';
import type { DataSource } from 'typeorm';
import { BLOB_CHUNK_BYTES, blobIdOf } from './blob.store';

export type S3BlobConfig = Extract<BlobStoreConfig, { kind: 's3' }>;

/** The key segment of blobs written with no namespace (namespaces are `[a-z][a-z0-9-]*`). */
const UNSCOPED = '_';

/** The `json` of a `blobs` row whose bytes are in the bucket (JSON text is never empty). */
export const IN_BUCKET = '';

/** A failed S3 request: method, key, status and the server's error code (never credentials). */
export class S3RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'S3RequestError';
  }
}

/**
 * Blobs' bytes in an S3-compatible bucket, their metadata (id, namespace, size, created_at) in the
 * scheduler's `blobs` table with `json` empty. Same ids (sha256 of the bytes) and the same rules as
 * SqlBlobStore: the first writer's namespace owns the row, a repeated put refreshes created_at. The
 * object's key is `<prefix><namespace>/<id>` with the row's namespace (keyOf).
 *
 * Ordering keeps "a row names an object" true under the sweep: put upserts the row first (a sweep
 * then either waits on the row lock until it has deleted row and object, or sees the refreshed
 * created_at and keeps both), then writes the object; a reference is only handed out after that.
 * Rows written by SqlBlobStore (json not empty) are still read from the table.
 */
export class S3BlobStore implements BlobStore {
  private readonly client: AwsClient;

  constructor(
    private readonly dataSource: DataSource,
    private readonly config: S3BlobConfig,
    private readonly options: { fetch?: typeof fetch } = {},
  ) {
    this.client = new AwsClient({ accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey, service: 's3', region: config.region, retries: 2 });
  }

  async put(namespace: string, bytes: Uint8Array): Promise<BlobRef> {
    const id = blobIdOf(bytes);
    const rows = (await this.dataSource.query(
      `INSERT INTO blobs (id, namespace, size, json) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET created_at = now()
        RETURNING namespace, json = '' AS in_bucket`,
      [id, namespace, bytes.byteLength, IN_BUCKET],
    )) as { namespace: string; in_bucket: boolean }[];
    const row = rows[0];
    // Rewritten each time (same bytes, same key): a writer that crashed after its row left no object.
    if (row === undefined || row.in_bucket) await this.request('PUT', this.keyOf(row?.namespace ?? namespace, id), { body: bytes, headers: { 'content-type': 'application/json' } });
    return { $weftBlob: id, size: bytes.byteLength };
  }

  async get(id: string): Promise<Uint8Array | undefined> {
    const chunks: Uint8Array[] = [];
    for await (const chunk of this.read(id)) chunks.push(chunk);
    // JSON text is never empty: no chunk is no row or no object.
    return chunks.length === 0 ? undefined : Buffer.concat(chunks);
  }

  async size(id: string): Promise<number | undefined> {
    const row = await this.rowOf(id);
    return row === undefined ? undefined : Number(row.size);
  }

  /** Streams the object's body, re-cut into chunks of at most `chunkBytes`; empty when the row or the object is missing. */
  async *read(id: string, chunkBytes = BLOB_CHUNK_BYTES): AsyncIterable<Uint8Array> {
    const row = await this.rowOf(id, true);
    if (row === undefined) return;
    if (row.json !== IN_BUCKET) {
      const bytes = Buffer.from(row.json, 'utf8');
      for (let offset = 0; offset < bytes.byteLength; offset += chunkBytes) yield bytes.subarray(offset, offset + chunkBytes);
      return;
    }
    const response = await this.request('GET', this.keyOf(row.namespace, id), { missingOk: true });
    if (response === undefined || response.body === null) return;
    const limit = Number(row.size);
    let seen = 0;
    const reader = response.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        seen += value.byteLength;
        // Bounded: an object larger than its row says is not this blob (the row's size was bounded by WEFT_MAX_OUTPUT).
        if (seen > limit) throw new S3RequestError(502, `S3 GET ${this.keyOf(row.namespace, id)}: object larger than the ${limit} bytes recorded`);
        for (let offset = 0; offset < value.byteLength; offset += chunkBytes) yield value.subarray(offset, offset + chunkBytes);
      }
    } finally {
      await reader.cancel().catch(() => undefined);
    }
  }

  /** Deletes the objects of rows the sweep has just deleted (in its transaction); a missing object is fine. */
  async deleteObjects(rows: { id: string; namespace: string }[]): Promise<void> {
    for (let i = 0; i < rows.length; i += 8) {
      await Promise.all(rows.slice(i, i + 8).map((row) => this.request('DELETE', this.keyOf(row.namespace, row.id), { missingOk: true })));
    }
  }

  /**
   * `<prefix><namespace>/<id>`; `<prefix>_/<id>` for a blob whose writer knew no namespace (an
   * executor's step output: a dispatch does not carry it; `_` is never a namespace).
   */
  keyOf(namespace: string, id: string): string {
    return `${this.config.prefix}${namespace === '' ? UNSCOPED : namespace}/${id}`;
  }

  private async rowOf(id: string, withJson = false): Promise<{ namespace: string; size: string | number; json: string } | undefined> {
    // Only a short marker of json is read unless the caller needs PostgreSQL-held bytes.
    const rows = (await this.dataSource.query(`SELECT namespace, size, ${withJson ? 'json' : `'' AS json`} FROM blobs WHERE id = $1`, [id])) as { namespace: string; size: string | number; json: string }[];
    return rows[0];
  }

  private urlOf(key: string): string {
    const path = key.split('/').map(encodeURIComponent).join('/');
    const { bucket, endpoint, region, forcePathStyle } = this.config;
    const base = endpoint ?? `https://s3.${region}.amazonaws.com`;
    if (forcePathStyle) return `${base}/${bucket}/${path}`;
    const url = new URL(base);
    return `${url.protocol}//${bucket}.${url.host}/${path}`;
  }

  private async request(method: 'PUT' | 'GET' | 'DELETE', key: string, init: { body?: Uint8Array; headers?: Record<string, string>; missingOk?: boolean } = {}): Promise<Response | undefined> {
    const signed = await this.client.sign(this.urlOf(key), { method, ...(init.body && { body: init.body }), ...(init.headers && { headers: init.headers }) });
    const response = await (this.options.fetch ?? fetch)(signed);
    if (response.status === 404 && init.missingOk) {
      await response.body?.cancel();
      return undefined;
    }
    if (!response.ok) {
      const text = (await response.text().catch(() => '')).slice(0, 2000);
      const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? 'unknown';
      throw new S3RequestError(response.status, `S3 ${method} ${this.config.bucket}/${key}: ${response.status} ${code}`);
    }
    if (method !== 'GET') await response.body?.cancel();
    return response;
  }
}
