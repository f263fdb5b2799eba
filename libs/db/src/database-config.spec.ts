import { DatabaseConfigError } from './db.errors';
import { assertSchemaName } from './database-config';

// Reading DATABASE_URL / WEFT_DATA_DIR / WEFT_DB_SCHEMA is @weft/config's (database-config.spec.ts there);
// this guard protects SQL from a schema name built by hand.
describe('assertSchemaName', () => {
  it('accepts a lower-case identifier', () => {
    expect(() => assertSchemaName('weft_prod')).not.toThrow();
  });

  it.each(['Bad-Schema', 'x; drop table runs', 'a'.repeat(64)])('rejects %j naming the variable', (schema) => {
    let caught: unknown;
    try {
      assertSchemaName(schema, 'WEFT_DB_SCHEMA');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DatabaseConfigError);
    expect(caught).toMatchObject({ code: 'DB_CONFIG_INVALID', variable: 'WEFT_DB_SCHEMA', message: expect.stringContaining('WEFT_DB_SCHEMA:') });
  });
});
