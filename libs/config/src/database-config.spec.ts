import { ConfigError, loadConfig } from './config';
import { databaseConfigOf } from './database-config';

const databaseOf = (env: NodeJS.ProcessEnv) => databaseConfigOf(loadConfig(env));

describe('databaseConfigOf', () => {
  it('selects PostgreSQL when DATABASE_URL is set, with an optional schema', () => {
    expect(databaseOf({ DATABASE_URL: 'postgres://weft@db:5432/weft' })).toEqual({ kind: 'postgres', url: 'postgres://weft@db:5432/weft' });
    expect(databaseOf({ DATABASE_URL: 'postgresql://db/weft', WEFT_DB_SCHEMA: 'weft_prod' })).toEqual({
      kind: 'postgres',
      url: 'postgresql://db/weft',
      schema: 'weft_prod',
    });
  });

  it('falls back to PGlite in WEFT_DATA_DIR, .weft/data by default, memory:// for in memory', () => {
    expect(databaseOf({})).toEqual({ kind: 'pglite', dataDir: '.weft/data' });
    expect(databaseOf({ DATABASE_URL: '', WEFT_DATA_DIR: '/var/lib/weft' })).toEqual({ kind: 'pglite', dataDir: '/var/lib/weft' });
    expect(databaseOf({ WEFT_DATA_DIR: 'memory://' })).toEqual({ kind: 'pglite' });
    expect(databaseOf({ WEFT_DATA_DIR: 'memory://', WEFT_DB_SCHEMA: 'dev' })).toEqual({ kind: 'pglite', schema: 'dev' });
  });

  it.each([
    [{ DATABASE_URL: 'not a url' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'mysql://db/weft' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'postgres:///weft' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'postgres://db/weft', WEFT_DB_SCHEMA: 'Bad-Schema' }, 'WEFT_DB_SCHEMA'],
    [{ WEFT_DB_SCHEMA: 'x; drop table runs' }, 'WEFT_DB_SCHEMA'],
    [{ WEFT_DB_SCHEMA: 'a'.repeat(64) }, 'WEFT_DB_SCHEMA'],
    [{ WEFT_DATA_DIR: ' data ' }, 'WEFT_DATA_DIR'],
  ])('rejects %j naming %s', (env, variable) => {
    let caught: unknown;
    try {
      databaseOf(env);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect(caught).toMatchObject({ code: 'CONFIG_INVALID', problems: [expect.objectContaining({ variable })], message: expect.stringContaining(`${variable}:`) });
  });
});
