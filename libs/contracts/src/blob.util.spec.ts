import { holdsReservedKey, isBlobRef } from './blob.util';

describe('isBlobRef', () => {
  const id = 'a'.repeat(64);

  it('is exactly { $weftBlob: <sha256 hex>, size: <bytes> }, in any key order', () => {
    expect(isBlobRef({ $weftBlob: id, size: 10 })).toBe(true);
    expect(isBlobRef({ size: 0, $weftBlob: id })).toBe(true);
  });

  it.each([
    ['an extra key', { $weftBlob: id, size: 10, x: 1 }],
    ['a short id', { $weftBlob: 'abc', size: 10 }],
    ['upper-case hex', { $weftBlob: 'A'.repeat(64), size: 10 }],
    ['a negative size', { $weftBlob: id, size: -1 }],
    ['a fractional size', { $weftBlob: id, size: 1.5 }],
    ['an array', [id, 10]],
    ['null', null],
    ['a string', id],
    ['an inherited key', Object.assign(Object.create({ $weftBlob: id }) as object, { size: 1 })],
  ])('is not %s', (_name, value) => {
    expect(isBlobRef(value)).toBe(false);
  });

  it('holdsReservedKey finds $weftBlob at the top level only', () => {
    expect(holdsReservedKey({ $weftBlob: 'x' })).toBe(true);
    expect(holdsReservedKey({ nested: { $weftBlob: 'x' } })).toBe(false);
    expect(holdsReservedKey([{ $weftBlob: 'x' }])).toBe(false);
  });
});
