import { checkPayload, jsonBytes, PAYLOAD_ERROR_CODES, storableText } from './payload.util';

describe('checkPayload', () => {
  it('accepts JSON within the bound and counts bytes as JSON.stringify writes them (UTF-8)', () => {
    const values: unknown[] = [
      null,
      true,
      12.5,
      'plain',
      'é😀"\\\n',
      [1, 'two', { three: [null, false] }],
      { a: 1, 'b c': ['x', { d: 'ü' }], e: {} },
      [],
      {},
    ];
    for (const value of values) {
      const exact = Buffer.byteLength(JSON.stringify(value));
      expect(checkPayload(value, exact)).toBeUndefined();
      expect(jsonBytes(value)).toBe(exact);
    }
  });

  it('refuses a value over the bound with PAYLOAD_TOO_LARGE, without stringifying it', () => {
    expect(checkPayload('x'.repeat(101), 100)?.code).toBe(PAYLOAD_ERROR_CODES.tooLarge);
    expect(checkPayload({ rows: Array.from({ length: 50 }, () => 'abc') }, 100)?.code).toBe(PAYLOAD_ERROR_CODES.tooLarge);
    // One 1 MiB string shared 10^6 times would be a terabyte of JSON: refused after a bound's worth of work.
    const shared = 'y'.repeat(1 << 20);
    const huge = new Array<string>(1_000_000).fill(shared);
    expect(checkPayload(huge, 10 * (1 << 20))?.code).toBe(PAYLOAD_ERROR_CODES.tooLarge);
    expect(jsonBytes(huge, 1000)).toBeGreaterThan(1000);
  });

  it('walks deep nesting without recursion', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(checkPayload(deep, 10_000_000)).toBeUndefined();
  });

  it('refuses NUL and lone surrogates in strings and keys, naming the path', () => {
    const cases: [unknown, string][] = [
      ['x\u0000y', '$'],
      [{ o: ['ok', 'a\u0000'] }, '$.o[1]'],
      [{ 'k\u0000': 1 }, '$["k\ufffd"]'],
      [{ s: 'a\udc00b' }, '$.s'],
      [{ s: 'tail\ud800' }, '$.s'],
      [{ 'bad key': { t: '\ud83d' } }, '$["bad key"].t'],
    ];
    for (const [value, path] of cases) {
      const problem = checkPayload(value, 1_000_000);
      expect(problem?.code).toBe(PAYLOAD_ERROR_CODES.unstorable);
      expect(problem?.message).toContain(`at ${path} `);
    }
    // A well-formed pair and the six characters `\u0000` written out are fine.
    expect(checkPayload({ emoji: '😀', text: '\\u0000' }, 1000)).toBeUndefined();
  });
});

describe('storableText', () => {
  it('replaces NUL and lone surrogates with U+FFFD and keeps pairs', () => {
    expect(storableText('a\u0000b\udc00c\ud800')).toBe('a\ufffdb\ufffdc\ufffd');
    expect(storableText('ok 😀')).toBe('ok 😀');
  });
});

describe('checkPayload on a cycle', () => {
  it('stops without a payload problem (JSON.stringify reports the cycle to whoever serialises)', () => {
    const cyclic: Record<string, unknown> = { a: 'x' };
    cyclic.self = { back: cyclic };
    expect(checkPayload(cyclic, 1_000_000)).toBeUndefined();
    // Shared, not cyclic: counted each time, as JSON writes it.
    const shared = { s: 'y'.repeat(100) };
    expect(jsonBytes([shared, shared])).toBe(Buffer.byteLength(JSON.stringify([shared, shared])));
  });
});
