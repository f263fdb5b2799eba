import { createHash } from 'node:crypto';
import { BLOB_ERROR_CODES, type BlobRef, type BlobStore, WeftError } from '@weft/contracts';
import { shareWithExpressions, toCel } from '@weft/core';

/** Thrown by a resolver inside decide when a blob's value is not in memory yet: load it, decide again. */
export class BlobNotLoadedError extends WeftError<'BLOB_NOT_LOADED'> {
  constructor(readonly ref: BlobRef) {
    super('BLOB_NOT_LOADED', `blob ${ref.$weftBlob} is not loaded`);
  }
}

/**
 * Thrown inside decide when a run's inputs, outputs or a child's inputs are to be stored by reference
 * but their blob is not written yet: decide cannot wait, so the shell writes it and decides again.
 */
export class BlobNotStoredError extends WeftError<'BLOB_NOT_STORED'> {
  constructor(
    readonly namespace: string,
    readonly json: string,
    readonly ref: BlobRef,
  ) {
    super('BLOB_NOT_STORED', `blob ${ref.$weftBlob} is not stored yet`);
  }
}

/** Most blobs one event may load or write before it gives up (each is one more decision). */
const MAX_BLOB_ROUNDS = 16;

/**
 * Runs `decideAndCommit` until its decision needs no blob it lacks: a BlobNotLoadedError loads the
 * blob, a BlobNotStoredError writes it (before the transaction that names it, so a committed
 * reference always has its blob; a write whose decision then fails leaves a blob nothing names,
 * which the sweep removes), and the decision is made again. Bounded, so an evicting cache cannot loop.
 */
export async function withBlobRounds<T>(blobs: BlobValues | undefined, decideAndCommit: () => Promise<T>): Promise<T> {
  for (let round = 0; ; round++) {
    try {
      return await decideAndCommit();
    } catch (error) {
      if (blobs === undefined || round >= MAX_BLOB_ROUNDS) throw error;
      if (error instanceof BlobNotLoadedError) await blobs.load(error.ref);
      else if (error instanceof BlobNotStoredError) await blobs.put(error.namespace, error.json);
      else throw error;
    }
  }
}

/** How long a blob this process wrote or read counts as stored without asking (ms): far below the sweep's grace. */
const KNOWN_FOR_MS = 10 * 60_000;
const KNOWN_MAX = 10_000;

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

  /**
   * Blobs this process wrote or read lately (id -> when, monotonic ms), so a decision may name them
   * without a query. Forgotten after KNOWN_FOR_MS, well inside the sweep's grace (BlobSweeper), so
   * a decision never names a blob the sweep may have removed meanwhile; at most KNOWN_MAX ids.
   */
  private readonly known = new Map<string, number>();

  constructor(
    private readonly store: Pick<BlobStore, 'get' | 'put'>,
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

  /**
   * The reference to `json` (a value's exact JSON text) if its blob is stored; else throws
   * BlobNotStoredError, so ApplyEventUseCase `put`s it and decides again (the same decision makes
   * the same JSON, hence the same id). Synchronous, for use inside decide.
   */
  reference(namespace: string, json: string): BlobRef {
    const ref: BlobRef = { $weftBlob: createHash('sha256').update(json, 'utf8').digest('hex'), size: Buffer.byteLength(json, 'utf8') };
    const at = this.known.get(ref.$weftBlob);
    if (at === undefined || performance.now() - at > KNOWN_FOR_MS) throw new BlobNotStoredError(namespace, json, ref);
    return ref;
  }

  /** Writes the blob a decision asked for (idempotent) and remembers it. */
  async put(namespace: string, json: string): Promise<BlobRef> {
    const ref = await this.store.put(namespace, Buffer.from(json, 'utf8'));
    this.remember(ref.$weftBlob);
    return ref;
  }

  async load(ref: BlobRef): Promise<void> {
    if (this.values.has(ref.$weftBlob)) return;
    const bytes = await this.store.get(ref.$weftBlob);
    const value: unknown = bytes === undefined ? { ...ref, error: BLOB_ERROR_CODES.missing } : JSON.parse(Buffer.from(bytes).toString('utf8'));
    this.keep(ref, value, bytes?.byteLength ?? 0);
    if (bytes !== undefined) this.remember(ref.$weftBlob);
  }

  /** Keeps the value of a blob this process just wrote (its parsed form is at hand: no read back). */
  hold(ref: BlobRef, value: unknown): void {
    if (this.values.has(ref.$weftBlob)) return;
    this.keep(ref, value, ref.size);
  }

  private keep(ref: BlobRef, value: unknown, size: number): void {
    // Every decision of the run reads this same object: convert it to CEL once, not per expression.
    // (converted here, outside the run's transaction: ~0.5 s for 20 MB on the shared box).
    if (value !== null && typeof value === 'object') {
      shareWithExpressions(value);
      toCel(value);
    }
    for (const [id, entry] of this.values) {
      if (this.held + size <= this.capacityBytes) break;
      this.values.delete(id);
      this.held -= entry.bytes;
    }
    this.values.set(ref.$weftBlob, { value, bytes: size });
    this.held += size;
  }

  private remember(id: string): void {
    this.known.delete(id);
    this.known.set(id, performance.now());
    for (const oldest of this.known.keys()) {
      if (this.known.size <= KNOWN_MAX) break;
      this.known.delete(oldest);
    }
  }
}
