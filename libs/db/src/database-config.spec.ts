import { DatabaseConfigError } from './db.errors';
import { databaseConfigFromEnv } from './database-config';

describe('databaseConfigFromEnv', () => {
  it('selects PostgreSQL when DATABASE_URL is set, with an optional schema', () => {
    expect(databaseConfigFromEnv({ DATABASE_URL: 'postgres://weft@db:5432/weft' })).toEqual({ kind: 'postgres', url: 'postgres://weft@db:5432/weft' });
    expect(databaseConfigFromEnv({ DATABASE_URL: 'postgresql://db/weft', WEFT_DB_SCHEMA: 'weft_prod' })).toEqual({
      kind: 'postgres',
      url: 'postgresql://db/weft',
      schema: 'weft_prod',
    });
  });

  it('falls back to PGlite in WEFT_DATA_DIR, .weft/data by default, memory:// for in memory', () => {
    expect(databaseConfigFromEnv({})).toEqual({ kind: 'pglite', dataDir: '.weft/data' });
    expect(databaseConfigFromEnv({ DATABASE_URL: '', WEFT_DATA_DIR: '/var/lib/weft' })).toEqual({ kind: 'pglite', dataDir: '/var/lib/weft' });
    expect(databaseConfigFromEnv({ WEFT_DATA_DIR: 'memory://' })).toEqual({ kind: 'pglite' });
    expect(databaseConfigFromEnv({ WEFT_DATA_DIR: 'memory://', WEFT_DB_SCHEMA: 'dev' })).toEqual({ kind: 'pglite', schema: 'dev' });
  });

  it.each([
    [{ DATABASE_URL: 'not a url' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'mysql://db/weft' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'postgres:///weft' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'postgres://db/weft', WEFT_DB_SCHEMA: 'Bad-Schema' }, 'WEFT_DB_SCHEMA'],
    [{ WEFT_DB_SCHEMA: 'x; drop table runs' }, 'WEFT_DB_SCHEMA'],
    [{ WEFT_DATA_DIR: ' data ' }, 'WEFT_DATA_DIR'],
  ])('rejects %j naming %s', (env, variable) => {
    let caught: unknown;
    try {
      databaseConfigFromEnv(env);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DatabaseConfigError);
    expect(caught).toMatchObject({ code: 'DB_CONFIG_INVALID', variable, message: expect.stringContaining(`${variable}:`) });
  });
});
