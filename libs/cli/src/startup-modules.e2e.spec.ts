import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { tempDirForSuite } from './commands/__fixtures__/temp-dir';

// What the short commands load (start-up time: issue 15, bench/startup.ts). Nest and rxjs are ~360
// modules (~0.1 s of CPU); only `weft dev`, `weft worker` and runs written to a store as they go
// (--durable, PostgreSQL) need them; ajv (~80 modules) only a review decision checked against its
// form. A barrel import that drags them back in fails here.
const root = join(__dirname, '..', '..', '..');
const bin = join(root, 'libs', 'cli', 'bin', 'weft.js');
const HEAVY = /[\\/]node_modules[\\/](@nestjs[\\/](common|core)|rxjs|ajv)[\\/]|[\\/]libs[\\/]platform[\\/]/;

/** Runs `weft <args>` and resolves with its exit code and the modules it had loaded when it exited that match HEAVY. */
function heavyModulesOf(args: string[], env: Record<string, string>): Promise<{ code: number | null; heavy: string[]; stderr: string }> {
  const probe = `
    process.on('exit', () => {
      const heavy = Object.keys(require.cache).filter((file) => ${HEAVY.toString()}.test(file));
      require('node:fs').writeSync(2, '\\nHEAVY ' + JSON.stringify(heavy) + '\\n');
    });
    process.argv = [process.argv[0], ${JSON.stringify(bin)}, ...process.argv.slice(1)];
    require(${JSON.stringify(bin)});`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', probe, '--', ...args], { cwd: root, env: { ...process.env, NO_COLOR: '1', ...env } });
    let stderr = '';
    child.stdout.resume();
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = /^HEAVY (.*)$/m.exec(stderr);
      resolve({ code, heavy: line ? (JSON.parse(line[1]) as string[]) : ['(no report)'], stderr });
    });
  });
}

jest.setTimeout(60_000);

describe('weft start-up: what the short commands load', () => {
  let dir = '';
  tempDirForSuite('weft-startup-', (made) => (dir = made));

  it.each([
    ['--help', ['--help']],
    ['validate', ['validate', 'examples/diamond.yaml']],
    ['run (kept for the local PGlite store)', ['run', 'examples/diamond.yaml']],
    ['run --no-store', ['run', 'examples/diamond.yaml', '--no-store']],
  ])('%s loads neither Nest, rxjs, ajv nor @weft/platform', async (_name, args) => {
    const { code, heavy, stderr } = await heavyModulesOf(args, { WEFT_DATA_DIR: join(dir, 'data') });
    expect({ code, heavy }).toEqual({ code: 0, heavy: [] });
    expect(stderr).not.toContain('Error');
  });
});
