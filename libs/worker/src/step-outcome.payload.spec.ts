import { toJsonOutput, toStepError } from './step-outcome.util';

/** Issue 12: the executor bounds a result where it is made, before it is published. */
describe('toJsonOutput bounds (WEFT_MAX_PAYLOAD)', () => {
  it('refuses an output over the bound with PAYLOAD_TOO_LARGE, never retried, before stringifying it', () => {
    expect(() => toJsonOutput({ rows: 'x'.repeat(2_000) }, 1_000)).toThrow(expect.objectContaining({ code: 'PAYLOAD_TOO_LARGE', retryable: false }));
    // Beyond what JSON.stringify could build: refused by the walk, not by a RangeError after gigabytes.
    const shared = 'y'.repeat(1 << 20);
    expect(() => toJsonOutput(new Array<string>(2_000).fill(shared), 1 << 20)).toThrow(expect.objectContaining({ code: 'PAYLOAD_TOO_LARGE' }));
    expect(toJsonOutput({ rows: 'x'.repeat(900) }, 1_000)).toEqual({ rows: 'x'.repeat(900) });
  });

  it('refuses NUL and lone surrogates with UNSTORABLE_OUTPUT, also when toJSON() makes them', () => {
    expect(() => toJsonOutput({ o: 'x\u0000y' })).toThrow(expect.objectContaining({ code: 'UNSTORABLE_OUTPUT', retryable: false }));
    expect(() => toJsonOutput({ ['k\u0000']: 1 })).toThrow(expect.objectContaining({ code: 'UNSTORABLE_OUTPUT' }));
    expect(() => toJsonOutput({ when: { toJSON: () => '\udc00' } })).toThrow(expect.objectContaining({ code: 'UNSTORABLE_OUTPUT' }));
  });

  it('makes a thrown error storable rather than losing it', () => {
    expect(toStepError(Object.assign(new Error('bad\u0000byte'), { code: 'E\ud800' }))).toMatchObject({ code: 'E\ufffd', message: 'bad\ufffdbyte' });
  });
});
