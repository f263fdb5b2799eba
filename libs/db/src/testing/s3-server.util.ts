import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

/** A local S3-compatible server (s3rver) for one test file: in this process, on a random loopback port, files in a temp dir. */
export interface S3TestServer {
  bucket: string;
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  /** s3rver's built-in key pair: it checks the access key id exists, not the SigV4 signature itself. */
  accessKeyId: string;
  secretAccessKey: string;
  /** Where the objects are (`<directory>/<bucket>/<key>._S3rver_object`). */
  directory: string;
  /** `s3://<bucket>/<prefix>?endpoint=...&forcePathStyle=true` for WEFT_BLOB_URL. */
  blobUrl(prefix?: string): string;
  close(): Promise<void>;
}

export async function startS3TestServer(bucket = 'weft-blobs'): Promise<S3TestServer> {
  const directory = await mkdtemp(join(tmpdir(), 'weft-s3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: bucket }] });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    bucket,
    endpoint,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    directory,
    blobUrl: (prefix = '') => `s3://${bucket}/${prefix}?endpoint=${encodeURIComponent(endpoint)}&region=us-east-1&forcePathStyle=true`,
    close: async () => {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
