import type { BlobStore } from '@weft/contracts';
import { blobStoreConfigOf, type WeftConfig } from '@weft/config';
import type { DataSource } from 'typeorm';
import { type BlobSweepCursor, SqlBlobStore, sweepUnnamedBlobs } from './blob.store';
import { S3BlobStore } from './s3-blob.store';

/** A process's blob store and its sweep (one bounded step, as sweepUnnamedBlobs). */
export interface Blobs {
  store: BlobStore;
  sweep(graceMs: number, batch: number, after?: BlobSweepCursor): Promise<{ removed: string[]; next: BlobSweepCursor | undefined }>;
}

/**
 * The one place that chooses where large payloads' bytes live: WEFT_BLOB_URL set, an S3-compatible
 * bucket (metadata in `dataSource`'s `blobs` table); unset, the `blobs` table itself.
 */
export function blobsOf(dataSource: DataSource, config: WeftConfig, options: { fetch?: typeof fetch } = {}): Blobs {
  const chosen = blobStoreConfigOf(config);
  if (chosen.kind === 'database') {
    return { store: new SqlBlobStore(dataSource), sweep: (graceMs, batch, after) => sweepUnnamedBlobs(dataSource, graceMs, batch, after) };
  }
  const store = new S3BlobStore(dataSource, chosen, options);
  return { store, sweep: (graceMs, batch, after) => sweepUnnamedBlobs(dataSource, graceMs, batch, after, (rows) => store.deleteObjects(rows)) };
}
