/**
 * Records every statement of the scheduler's transition writes (text containing `run_write`)
 * with its parameters, one JSON file each, in PG_CAPTURE_DIR, numbered in the order sent;
 * bench/hop-sql.ts replays them. Load with NODE_OPTIONS="-r $PWD/bench/lib/pg-capture.preload.cjs".
 */
'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS preload (node -r), loaded before any compiler hook */
const fs = require('node:fs');
const path = require('node:path');
const dir = process.env.PG_CAPTURE_DIR;
if (dir) {
  fs.mkdirSync(dir, { recursive: true });
  const pg = require(require.resolve('pg', { paths: [process.cwd()] }));
  const query = pg.Client.prototype.query;
  let n = 0;
  pg.Client.prototype.query = function capture(config, values) {
    const text = typeof config === 'string' ? config : config?.text;
    if (typeof text === 'string' && text.includes('run_write')) {
      const params = Array.isArray(values) ? values : config?.values;
      n += 1;
      fs.writeFileSync(path.join(dir, `${String(n).padStart(6, '0')}.json`), JSON.stringify({ text, params }));
    }
    return query.apply(this, arguments);
  };
}
