import { ActionError, NonRetryableError } from './action.errors';
import { toJsonOutput, toStepError } from './step-outcome.util';

describe('toStepError', () => {
  it('maps a plain Error to HANDLER_ERROR, retryable', () => {
    expect(toStepError(new Error('nope'))).toEqual({ code: 'HANDLER_ERROR', message: 'nope', retryable: true });
  });

  it('keeps the code and retryability an error carries', () => {
    expect(toStepError(new ActionError('E_RATE', 'slow down'))).toEqual({ code: 'E_RATE', message: 'slow down', retryable: true });
    expect(toStepError(new ActionError('E_BAD', 'bad', { retryable: false }))).toEqual({ code: 'E_BAD', message: 'bad', retryable: false });
    expect(toStepError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))).toMatchObject({ code: 'ECONNREFUSED', retryable: true });
    expect(toStepError({ code: 'X', message: 'hand-made', retryable: false })).toEqual({ code: 'X', message: 'hand-made', retryable: false });
  });

  it('makes NonRetryableError non-retryable with its code', () => {
    expect(toStepError(new NonRetryableError('gone'))).toEqual({ code: 'NON_RETRYABLE', message: 'gone', retryable: false });
    expect(toStepError(new NonRetryableError('gone', { code: 'E_GONE' }))).toMatchObject({ code: 'E_GONE', retryable: false });
  });

  it('handles thrown non-errors and numeric codes', () => {
    expect(toStepError('just a string')).toEqual({ code: 'HANDLER_ERROR', message: 'just a string', retryable: true });
    expect(toStepError(new DOMException('aborted', 'AbortError'))).toMatchObject({ code: 'HANDLER_ERROR', message: 'aborted' });
  });

  it('truncates huge messages', () => {
    expect(toStepError(new Error('x'.repeat(10_000))).message.length).toBeLessThan(2100);
  });
});

describe('toJsonOutput', () => {
  it('round-trips JSON values and maps undefined to null', () => {
    expect(toJsonOutput({ a: [1, 'b', null], d: new Date(0) })).toEqual({ a: [1, 'b', null], d: '1970-01-01T00:00:00.000Z' });
    expect(toJsonOutput(undefined)).toBeNull();
  });

  it.each([
    ['a BigInt', { n: BigInt(1) }],
    ['a cycle', (() => { const o: Record<string, unknown> = {}; o.self = o; return o; })()],
    ['a function', () => 1],
  ])('rejects %s with OUTPUT_NOT_SERIALIZABLE, non-retryable', (_label, value) => {
    expect(() => toJsonOutput(value)).toThrow(expect.objectContaining({ code: 'OUTPUT_NOT_SERIALIZABLE', retryable: false }));
  });
});
