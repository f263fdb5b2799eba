import { isDatabaseUnavailable } from './unavailable.util';

class QueryFailedLike extends Error {
  constructor(readonly driverError: unknown) {
    super(driverError instanceof Error ? driverError.message : 'query failed');
  }
}

const withCode = (message: string, code: string): Error => Object.assign(new Error(message), { code });

describe('isDatabaseUnavailable', () => {
  it.each([
    ['a dropped connection (node-postgres, no code)', new Error('Connection terminated unexpectedly')],
    ['the same wrapped by TypeORM', new QueryFailedLike(new Error('Connection terminated unexpectedly'))],
    ['connection refused', withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
    ['a reset socket as a cause', new Error('outer', { cause: withCode('read ECONNRESET', 'ECONNRESET') })],
    ['the server shutting down', new QueryFailedLike(withCode('terminating connection due to administrator command', '57P01'))],
    ['the server starting up', withCode('the database system is starting up', '57P03')],
    ['a connection exception (class 08)', withCode('connection failure', '08006')],
    ['too many connections', withCode('sorry, too many clients already', '53300')],
  ])('%s: unavailable', (_, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it.each([
    ['a unique violation', new QueryFailedLike(withCode('duplicate key value violates unique constraint', '23505'))],
    ['invalid jsonb text', withCode('unsupported Unicode escape sequence', '22P05')],
    ['a plain bug', new TypeError("Cannot read properties of undefined (reading 'x')")],
    ['not an error', 'Connection terminated'],
    ['undefined', undefined],
  ])('%s: not unavailable', (_, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });
});
