import { METHODS } from 'node:http';
import { HttpGuardError } from './http-guard.error';
import { allowedMethods, byteSize, checkJsonShape, clientErrorProblem, type RouteLayer } from './http-guards';

const codeOf = (text: string): string | undefined => {
  try {
    checkJsonShape(text);
    return undefined;
  } catch (error) {
    if (error instanceof HttpGuardError) return error.code;
    throw error;
  }
};

describe('checkJsonShape', () => {
  it('passes ordinary JSON, including keys repeated in different objects and escaped quotes', () => {
    for (const text of ['{}', '[]', '1', '"a"', '{"a":{"a":1},"b":[{"a":2},{"a":3}]}', '{"a\\"b":1,"a\\\\":2}', `${'['.repeat(64)}${']'.repeat(64)}`]) {
      expect([text.slice(0, 30), codeOf(text)]).toEqual([text.slice(0, 30), undefined]);
    }
  });

  it('refuses nesting past 64, duplicate keys (also written with escapes) and NUL, in one pass without recursion', () => {
    expect(codeOf(`${'['.repeat(65)}${']'.repeat(65)}`)).toBe('JSON_TOO_DEEP');
    expect(codeOf(`{"a":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_001)}`)).toBe('JSON_TOO_DEEP');
    expect(codeOf('{"a":1,"a":2}')).toBe('DUPLICATE_JSON_KEY');
    expect(codeOf('{"x":{"a":1, "b":2,\n "a" : 3}}')).toBe('DUPLICATE_JSON_KEY');
    expect(codeOf('{"spec":1,"sp\\u0065c":2}')).toBe('DUPLICATE_JSON_KEY');
    expect(codeOf('{"a":"x\\u0000y"}')).toBe('NUL_CHARACTER');
    expect(codeOf('{"a\\u0000":1}')).toBe('NUL_CHARACTER');
    expect(codeOf('{"a":"x\u0000y"}')).toBe('NUL_CHARACTER');
    // An escaped backslash before u0000 is text, not NUL.
    expect(codeOf('{"a":"\\\\u0000"}')).toBeUndefined();
  });

  it('leaves malformed JSON to the parser', () => {
    for (const text of ['{', '{"a":', '"unterminated', '}}]]', '{"a\\":1}']) expect(codeOf(text)).toBeUndefined();
  });
});

describe('allowedMethods', () => {
  const layer = (path: RegExp, methods: Record<string, boolean>): RouteLayer => ({ route: { path: String(path), methods }, match: (p) => path.test(p) });

  it('lists the methods of the routes at a path, HEAD with GET, ignoring routes for every method', () => {
    const stack = [layer(/^\/v1\/runs$/, { get: true }), layer(/^\/v1\/runs\/[^/]+$/, { get: true }), layer(/^\/v1\/runs\/adhoc$/, { post: true }), layer(/.*/, { _all: true })];
    expect(allowedMethods(stack, '/v1/runs')).toEqual(['GET', 'HEAD']);
    expect(allowedMethods(stack, '/v1/runs/adhoc')).toEqual(['GET', 'HEAD', 'POST']);
    expect(allowedMethods(stack, '/nowhere')).toEqual([]);
    expect(allowedMethods([layer(/.*/, { _all: true }), { match: () => true }], '/v1/runs')).toEqual([]);
    // express 5's all() lists every method one by one (Nest's middleware for RequestMethod.ALL): not a route's methods.
    const all = Object.fromEntries(METHODS.map((m) => [m.toLowerCase(), true]));
    expect(allowedMethods([layer(/^\/v1\/runs$/, all), layer(/^\/v1\/runs$/, { get: true })], '/v1/runs')).toEqual(['GET', 'HEAD']);
  });
});

describe('byteSize and clientErrorProblem', () => {
  it('reads body limits as body-parser does', () => {
    expect([byteSize('100b'), byteSize('512kb'), byteSize('1mb'), byteSize('1MB'), byteSize('2gb')]).toEqual([100, 524_288, 1_048_576, 1_048_576, 2 * 1024 ** 3]);
    expect(() => byteSize('lots')).toThrow(RangeError);
  });

  it('turns what Node refuses into problem documents', () => {
    const err = (code: string): NodeJS.ErrnoException => Object.assign(new Error(code), { code });
    expect(clientErrorProblem(err('HPE_HEADER_OVERFLOW'))).toMatchObject({ status: 431, code: 'HEADERS_TOO_LARGE' });
    expect(clientErrorProblem(err('ERR_HTTP_REQUEST_TIMEOUT'))).toMatchObject({ status: 408, code: 'REQUEST_TIMEOUT' });
    expect(clientErrorProblem(err('HPE_INVALID_HEADER_TOKEN'))).toMatchObject({ status: 400, code: 'BAD_REQUEST', type: 'urn:weft:problem:bad-request' });
  });
});
