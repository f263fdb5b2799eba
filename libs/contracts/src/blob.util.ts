/**
 * Large payloads by reference (issue 12 item 4): a step output whose JSON is above the inline
 * threshold (`WEFT_INLINE_PAYLOAD_MAX`) is stored once as a blob (its exact JSON bytes, keyed by
 * their sha256) and travels in results, run state and the API as a small reference instead.
 * Only a step's whole output is ever a reference, so the shape is recognised at the top level only.
 */

/** Default inline threshold: outputs whose JSON is larger go to the blob store when one is configured. */
export const DEFAULT_INLINE_PAYLOAD_BYTES = 256 * 1024;

/** Default largest output stored by reference (`WEFT_MAX_OUTPUT`), in bytes of JSON. */
export const DEFAULT_MAX_OUTPUT_BYTES = 100 * 1024 * 1024;

/** The key that marks a reference; a handler output holding it at the top level is refused. */
export const BLOB_REF_KEY = '$weftBlob';

/** What a run stores instead of a big output: the blob's id (sha256 hex of its JSON bytes) and size in bytes. */
export interface BlobRef {
  $weftBlob: string;
  size: number;
}

export const BLOB_ERROR_CODES = {
  /** A reference names a blob the store does not hold (or a handler output looks like a reference). */
  missing: 'BLOB_MISSING',
  /** A handler's output uses the reserved `$weftBlob` key at its top level. */
  reserved: 'RESERVED_OUTPUT_KEY',
  /** A step's input holds a value shaped like a reference the scheduler did not put there (it could name another run's blob). */
  reservedInput: 'RESERVED_INPUT_KEY',
} as const;

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Whether `value` is a blob reference: exactly `{ $weftBlob: <sha256 hex>, size: <bytes> }`. */
export function isBlobRef(value: unknown): value is BlobRef {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  // Cheap field checks first: this runs on every step output when expression scopes are built.
  const id = Object.prototype.hasOwnProperty.call(v, BLOB_REF_KEY) ? v[BLOB_REF_KEY] : undefined;
  return (
    typeof id === 'string' &&
    typeof v.size === 'number' &&
    SHA256_HEX.test(id) &&
    Number.isSafeInteger(v.size) &&
    v.size >= 0 &&
    Object.keys(v).length === 2
  );
}

/** Whether a handler's output uses the reserved key (it could pass for a reference to someone else's blob). */
export function holdsReservedKey(value: unknown): boolean {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && Object.prototype.hasOwnProperty.call(value, BLOB_REF_KEY);
}

/**
 * Where blobs live. Writes are idempotent (same bytes, same id). `namespace` records whose run
 * first stored the bytes; reads are authorised by the caller through the run that holds the
 * reference (a run of another namespace is not found), never by the id alone.
 */
export interface BlobStore {
  /** Stores `bytes` (JSON text, UTF-8) unless held already; resolves to its reference. */
  put(namespace: string, bytes: Uint8Array): Promise<BlobRef>;
  /** The whole blob, or undefined when the store does not hold it. */
  get(id: string): Promise<Uint8Array | undefined>;
  /** The blob in chunks of at most `chunkBytes` (bounded memory for the API's stream); empty when missing. */
  read(id: string, chunkBytes?: number): AsyncIterable<Uint8Array>;
  /** Size in bytes, or undefined when missing. */
  size(id: string): Promise<number | undefined>;
}
