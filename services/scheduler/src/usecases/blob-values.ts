import { BLOB_ERROR_CODES, type BlobRef, type BlobStore, WeftError } from '@weft/contracts';
import { shareWithExpressions, toCel } from '@weft/core';

/** Thrown by a resolver inside decide when a blob's value is not in memory yet: load it, decide again. */
export class BlobNotLoadedError extends WeftError<'BLOB_NOT_LOADED'> {
  constructor(readonly ref: BlobRef) {
    super('BLOB_NOT_LOADED', `blob ${ref.$weftBlob} is not loaded`);
  }
}

/** Default bytes of blob JSON kept parsed in memory for expressions (least recently used first out). */
export const DEFAULT_BLOB_CACHE_BYTES = 256 * 1024 * 1024;

/**
 * Parsed values of outputs stored by reference, for the core's synchronous expression scope
 * (DecideOptions.resolveBlob). decide cannot wait for the database, so `resolve` throws
 * BlobNotLoadedError on a miss; ApplyEventUseCase then `load`s the blob and decides again.
 * A blob the store does not hold resolves to its reference (an expression reading a field of
 * it then fails its step), so a lost blob never makes a decision retry for ever.
 */
export class BlobValues {
  private readonly values = new Map<string, { value: unknown; bytes: number }>();
  private held = 0;

  constructor(
    private readonly store: Pick<BlobStore, 'get'>,
    private readonly capacityBytes = DEFAULT_BLOB_CACHE_BYTES,
  ) {}

  readonly resolve = (ref: BlobRef): unknown => {
    const entry = this.values.get(ref.$weftBlob);
    if (entry === undefined) throw new BlobNotLoadedError(ref);
    // Map order is insertion order: re-inserting marks it most recently used.
    this.values.delete(ref.$weftBlob);
    this.values.set(ref.$weftBlob, entry);
    return entry.value;
  };

  async load(ref: BlobRef): Promise<void> {
    if (this.values.has(ref.$weftBlob)) return;
    const bytes = await this.store.get(ref.$weftBlob);
    const value: unknown = bytes === undefined ? { ...ref, error: BLOB_ERROR_CODES.missing } : JSON.parse(Buffer.from(bytes).toString('utf8'));
    // Every decision of the run reads this same object: convert it to CEL once, not per expression.
    // (converted here, outside the run's transaction: ~0.5 s for 20 MB on the shared box).
    if (value !== null && typeof value === 'object') {
      shareWithExpressions(value);
      toCel(value);
    }
    const size = bytes?.byteLength ?? 0;
    for (const [id, entry] of this.values) {
      if (this.held + size <= this.capacityBytes) break;
      this.values.delete(id);
      this.held -= entry.bytes;
    }
    this.values.set(ref.$weftBlob, { value, bytes: size });
    this.held += size;
  }
}
