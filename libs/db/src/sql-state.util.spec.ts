import { isDataException, sqlState } from './sql-state.util';

describe('sqlState', () => {
  it('finds the SQLSTATE through driverError and cause, and tells data exceptions apart', () => {
    const refused = Object.assign(new Error('query failed'), { driverError: Object.assign(new Error('bad escape'), { code: '22P05' }) });
    expect(sqlState(refused)).toBe('22P05');
    expect(isDataException(refused)).toBe(true);
    expect(isDataException(new Error('wrapped', { cause: Object.assign(new Error('lock'), { code: '55P03' }) }))).toBe(false);
    expect(isDataException(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))).toBe(false);
    expect(sqlState('nope')).toBeUndefined();
  });
});
