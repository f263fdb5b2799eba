'use strict';
// A transpile cache in front of @swc-node/register for the CLI's TypeScript sources.
// @swc-node/register needs the `typescript` package to read tsconfig (~0.3-0.5 s of
// compiling typescript.js on every start), which was most of `weft --help`. A cache hit
// here reads the transpiled file and loads neither typescript nor swc; a miss compiles
// through @swc-node/register's own `compile` with the options it derives from
// tsconfig.base.json (same output as before) and stores the result.
//
// Entries live in node_modules/.cache/weft-cli-swc, one file per (source content, options,
// tool versions); stale ones are never read again (delete the folder to reclaim space).
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const Module = require('node:module');

const ROOT = path.join(__dirname, '..', '..', '..');
const TSCONFIG = path.join(ROOT, 'tsconfig.base.json');
const CACHE_DIR = path.join(ROOT, 'node_modules', '.cache', 'weft-cli-swc');
const EXTENSIONS = ['.ts', '.tsx', '.mts', '.cts'];

const readOr = (file, fallback) => {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
};

function install() {
  process.env.SWC_NODE_PROJECT ??= TSCONFIG;
  // Entries keep swc's inline source maps; Node maps stack traces to the .ts lines with
  // `node --enable-source-maps` (not on by default: parsing every map costs ~10 % of a start).
  const salt = [
    'v1',
    readOr(TSCONFIG, ''),
    readOr(require.resolve('@swc/core/package.json'), ''),
    readOr(path.join(path.dirname(require.resolve('@swc-node/register')), 'package.json'), ''),
    process.env.SWC_NODE_PROJECT,
    process.env.SWCRC ?? '',
    process.env.SWC_NODE_SOURCE_MAP_MODE ?? '',
    process.env.SWC_NODE_IGNORE_DYNAMIC ?? '',
  ].join('\0');
  const saltHash = crypto.createHash('sha1').update(salt).digest('hex');

  let compiler;
  const compile = (source, filename) => {
    if (!compiler) {
      const { compile: swcCompile } = require('@swc-node/register/register');
      const { readDefaultTsConfig } = require('@swc-node/register/read-default-tsconfig');
      const options = readDefaultTsConfig(process.env.SWC_NODE_PROJECT);
      options.module = 1; // ts.ModuleKind.CommonJS, as @swc-node/register's register() sets it
      compiler = (code, file) => swcCompile(code, file, { ...options });
    }
    return compiler(source, filename);
  };

  let cacheWritable = true;
  const load = (module, filename) => {
    const source = fs.readFileSync(filename, 'utf8');
    const key = crypto.createHash('sha1').update(saltHash).update(filename).update('\0').update(source).digest('hex');
    const entry = path.join(CACHE_DIR, `${key}.js`);
    let code = readOr(entry, null);
    if (code === null) {
      code = compile(source, filename);
      if (cacheWritable) {
        try {
          fs.mkdirSync(CACHE_DIR, { recursive: true });
          const tmp = `${entry}.${process.pid}.tmp`;
          fs.writeFileSync(tmp, code);
          fs.renameSync(tmp, entry);
        } catch {
          cacheWritable = false; // a read-only checkout still runs, uncached
        }
      }
    }
    module._compile(code, filename);
  };
  for (const ext of EXTENSIONS) Module._extensions[ext] = load;
}

module.exports = { install };
