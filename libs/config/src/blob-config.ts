import type { WeftConfig } from './config';

/**
 * Where large payloads' bytes live (docs/persistence.md, "Large payloads by reference"). `database`:
 * the `blobs` table (PostgreSQL or PGlite). `s3`: an S3-compatible bucket (WEFT_BLOB_URL), the
 * `blobs` table keeping each blob's id, namespace, size and age. @weft/db opens it (blobsOf).
 */
export type BlobStoreConfig =
  | { kind: 'database' }
  | {
      kind: 's3';
      bucket: string;
      /** Key prefix, empty or ending in `/`; a blob's key is `<prefix><namespace>/<sha256>`. */
      prefix: string;
      /** `http(s)://host[:port]` of an S3-compatible server; undefined: AWS (`https://s3.<region>.amazonaws.com`). */
      endpoint?: string;
      region: string;
      /** `<endpoint>/<bucket>/<key>` instead of `<bucket>.<endpoint host>/<key>` (MinIO and most self-hosted servers). */
      forcePathStyle: boolean;
      accessKeyId: string;
      secretAccessKey: string;
    };

type ParsedBlobUrl = Omit<Extract<BlobStoreConfig, { kind: 's3' }>, 'accessKeyId' | 'secretAccessKey'>;

const QUERY_KEYS = new Set(['endpoint', 'region', 'forcePathStyle']);
/** S3's bucket naming rules (lower case, digits, dots, hyphens; 3 to 63 characters). */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * `s3://bucket[/prefix][?endpoint=http://127.0.0.1:9000&region=us-east-1&forcePathStyle=true]`, or
 * a message saying what is wrong with it (loadConfig reports it under WEFT_BLOB_URL).
 */
export function parseBlobUrl(text: string): ParsedBlobUrl | string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'expected s3://bucket/prefix?endpoint=http://host:port&region=us-east-1&forcePathStyle=true';
  }
  if (url.protocol !== 's3:') return `expected an s3:// URL, got ${url.protocol}//`;
  if (url.username !== '' || url.password !== '') return 'credentials do not belong in the URL: set WEFT_BLOB_ACCESS_KEY_ID and WEFT_BLOB_SECRET_ACCESS_KEY';
  if (url.hash !== '') return 'a #fragment is not allowed';
  const bucket = url.hostname;
  if (!BUCKET.test(bucket) || bucket.includes('..')) return `"${bucket}" is not a valid bucket name (3-63 lower-case letters, digits, dots, hyphens)`;
  const unknown = [...url.searchParams.keys()].filter((key) => !QUERY_KEYS.has(key));
  if (unknown.length > 0) return `unknown parameter ${unknown.join(', ')} (known: endpoint, region, forcePathStyle)`;
  const path = decodeURIComponent(url.pathname).replace(/^\/+/, '');
  if (path.split('/').some((part, i, all) => part === '' && i < all.length - 1) || path.length > 512) return 'the prefix must be /segment/segment (no empty segments, at most 512 characters)';
  const prefix = path === '' || path.endsWith('/') ? path : `${path}/`;
  const region = url.searchParams.get('region') ?? 'us-east-1';
  if (!/^[a-z0-9-]{1,64}$/.test(region)) return `region "${region}" is not a region name such as us-east-1`;
  const style = url.searchParams.get('forcePathStyle') ?? 'false';
  if (style !== 'true' && style !== 'false') return `forcePathStyle must be true or false, got "${style}"`;
  const endpointText = url.searchParams.get('endpoint');
  let endpoint: string | undefined;
  if (endpointText !== null) {
    let parsed: URL;
    try {
      parsed = new URL(endpointText);
    } catch {
      return `endpoint "${endpointText}" is not a URL such as http://127.0.0.1:9000`;
    }
    if ((parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.pathname !== '/' || parsed.search !== '' || parsed.username !== '') return `endpoint must be http(s)://host[:port] with no path, got "${endpointText}"`;
    endpoint = parsed.origin;
  }
  return { kind: 's3', bucket, prefix, region, forcePathStyle: style === 'true', ...(endpoint !== undefined && { endpoint }) };
}

/** The access key pair for WEFT_BLOB_URL: WEFT_BLOB_* first, else AWS_*; undefined when a half is missing. */
export function blobCredentialsOf(config: WeftConfig): { accessKeyId: string; secretAccessKey: string } | undefined {
  const accessKeyId = config.WEFT_BLOB_ACCESS_KEY_ID ?? config.AWS_ACCESS_KEY_ID;
  const secretAccessKey = config.WEFT_BLOB_SECRET_ACCESS_KEY ?? config.AWS_SECRET_ACCESS_KEY;
  return accessKeyId === undefined || secretAccessKey === undefined ? undefined : { accessKeyId, secretAccessKey };
}

/** WEFT_BLOB_URL selects S3 (loadConfig has validated it and its credentials); unset, the database. */
export function blobStoreConfigOf(config: WeftConfig): BlobStoreConfig {
  if (config.WEFT_BLOB_URL === undefined) return { kind: 'database' };
  const parsed = parseBlobUrl(config.WEFT_BLOB_URL);
  const credentials = blobCredentialsOf(config);
  if (typeof parsed === 'string' || credentials === undefined) throw new Error('WEFT_BLOB_URL: not validated by loadConfig');
  return { ...parsed, ...credentials };
}
