// `npm ci` runs this (the workspace's prepare script): it builds the console into dist/
// when its sources are here. A checkout has them; an image stage that copies only the
// package.json files (to cache `npm ci`) has none, and there is nothing to build.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
if (!existsSync(join(here, 'src', 'main.tsx'))) {
  console.log('@weft/console: no sources here, nothing to build');
  process.exit(0);
}
const vite = join(dirname(createRequire(import.meta.url).resolve('vite/package.json')), 'bin', 'vite.js');
const result = spawnSync(process.execPath, [vite, 'build', '--logLevel', 'warn'], { cwd: here, stdio: 'inherit' });
process.exit(result.status ?? 1);
