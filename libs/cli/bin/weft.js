#!/usr/bin/env node
// Runs the CLI from its TypeScript sources: swc compiles each file on load
// (milliseconds), so a fresh clone needs no build step before `npx weft`.
const path = require('node:path');
process.env.SWC_NODE_PROJECT ??= path.join(__dirname, '..', '..', '..', 'tsconfig.base.json');
// The CLI's own sources load through a transpile cache (ts-cache.js: start-up without the
// `typescript` package). User action modules (--actions, WEFT_ACTIONS) may be any of the
// file kinds @swc-node/register handles, so those commands register it whole.
if (process.argv.includes('--actions') || process.env.WEFT_ACTIONS) require('@swc-node/register');
else require('./ts-cache.js').install();
// `weft ... | head`: the reader went away; end quietly, as other command-line tools do.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}
require('../src/main.ts')
  .main(process.argv)
  .then((code) => {
    process.exitCode = code;
  })
  .catch((error) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    // Whatever failed may have left timers or sockets open: do not hang on them.
    process.exit(70);
  });
