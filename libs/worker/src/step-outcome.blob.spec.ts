import { type BlobRef, isBlobRef } from '@weft/contracts';
import { resolveInputRefs, toResultOutput } from './step-outcome.util';

/** A blob store that remembers what it was given. */
function recordingStore(): { put: (namespace: string, bytes: Uint8Array) => Promise<BlobRef>; get: (id: string) => Promise<Uint8Array | undefined>; stored: Buffer[] } {
  const stored: Buffer[] = [];
  return {
    stored,
    get: (id) => Promise.resolve(id === 'a'.repeat(64) ? stored[0] : undefined),
    put: (_namespace, bytes) => {
      stored.push(Buffer.from(bytes));
      return Promise.resolve({ $weftBlob: 'a'.repeat(64), size: bytes.byteLength });
    },
  };
}

describe('toResultOutput (large outputs by reference)', () => {
  const MAX_PAYLOAD = 8 * 1024;
  const blobsOf = (store: ReturnType<typeof recordingStore>) => ({ store, inlinePayloadBytes: 1024, maxOutputBytes: 64 * 1024 });

  it('keeps an output within the inline threshold inline', async () => {
    const store = recordingStore();
    expect(await toResultOutput({ ok: true }, MAX_PAYLOAD, blobsOf(store))).toEqual({ ok: true });
    expect(store.stored).toEqual([]);
  });

  it('stores an output over the threshold as its exact JSON bytes and returns the reference', async () => {
    const store = recordingStore();
    const output = { text: 'é'.repeat(2000), when: new Date(0) };
    const result = await toResultOutput(output, MAX_PAYLOAD, blobsOf(store));
    expect(isBlobRef(result)).toBe(true);
    expect(store.stored.map((b) => b.toString('utf8'))).toEqual([JSON.stringify(output)]);
  });

  it('fails an output over WEFT_MAX_OUTPUT with PAYLOAD_TOO_LARGE, never retried', async () => {
    const store = recordingStore();
    await expect(toResultOutput({ text: 'x'.repeat(70 * 1024) }, MAX_PAYLOAD, blobsOf(store))).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE', retryable: false });
    expect(store.stored).toEqual([]);
  });

  it('fails an output holding a NUL with UNSTORABLE_OUTPUT, even above the threshold', async () => {
    await expect(toResultOutput({ text: `${'x'.repeat(2000)}\u0000` }, MAX_PAYLOAD, blobsOf(recordingStore()))).rejects.toMatchObject({ code: 'UNSTORABLE_OUTPUT' });
  });

  it('refuses the reserved $weftBlob key at the top level (it could pass for a reference)', async () => {
    await expect(toResultOutput({ $weftBlob: 'b'.repeat(64), size: 1 }, MAX_PAYLOAD)).rejects.toMatchObject({ code: 'RESERVED_OUTPUT_KEY', retryable: false });
  });

  it('without a blob store keeps WEFT_MAX_PAYLOAD as the bound', async () => {
    await expect(toResultOutput({ text: 'x'.repeat(9 * 1024) }, MAX_PAYLOAD)).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
  });
});

describe('resolveInputRefs (a dispatch carrying a reference)', () => {
  const blobsOf = (store: ReturnType<typeof recordingStore>) => ({ store, inlinePayloadBytes: 1024, maxOutputBytes: 64 * 1024 });

  it('fetches a top-level field sent as a reference and leaves the others', async () => {
    const store = recordingStore();
    const value = { rows: ['x'.repeat(3000)] };
    const ref = await toResultOutput(value, 8 * 1024, blobsOf(store));
    expect(await resolveInputRefs({ data: ref, n: 1 }, blobsOf(store))).toEqual({ data: value, n: 1 });
  });

  it('fails BLOB_MISSING, never retried, for a blob the store lacks or without a store', async () => {
    const ref = { $weftBlob: 'c'.repeat(64), size: 10 };
    await expect(resolveInputRefs({ data: ref }, blobsOf(recordingStore()))).rejects.toMatchObject({ code: 'BLOB_MISSING', retryable: false });
    await expect(resolveInputRefs({ data: ref }, undefined)).rejects.toMatchObject({ code: 'BLOB_MISSING', retryable: false });
  });

  it('returns the same object when nothing is a reference', async () => {
    const input = { a: 1 };
    expect(await resolveInputRefs(input, undefined)).toBe(input);
  });
});
