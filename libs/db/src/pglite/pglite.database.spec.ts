import { PgliteDatabase } from './pglite.database';

describe('PgliteDatabase', () => {
  it('loads the WASM build under jest and answers a query', async () => {
    const db = await PgliteDatabase.open();
    const release = await db.checkout('public');
    const result = await db.run('select 1::int8 as one');
    await release();
    await db.release();
    expect(result.rows).toEqual([{ one: '1' }]);
  });
});
