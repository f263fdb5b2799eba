import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { dropSchema, POSTGRES_TEST_URL } from '@weft/db/testing';
import { describeDistributed, SHARED_NATS_URL } from '../distributed/support/infra.util';
import { freePort } from '../distributed/support/ports.util';
import { waitFor } from '../distributed/support/wait.util';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');

/** The child's environment without the npm_* variables of the npm that started jest (they would steer the inner npm). */
const cleanEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
  ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith('npm_'))),
  ...extra,
});

interface Report {
  status: string;
  outputs: Record<string, unknown> | null;
}

// "Done means" of issue 17: the packed packages install into a project outside the checkout
// and work there: the SDK type-checks with tsc, a defineAction handler runs embedded and in a
// startWorker process against `weft dev` on NATS + PostgreSQL, WeftClient drives that deployment.
describeDistributed('npm packages outside the repository', { nats: true, postgres: true }, () => {
  let work: string;
  let app: string;
  const children: ChildProcess[] = [];
  const inApp = (file: string, args: string[], env: Record<string, string> = {}) =>
    run(file, args, { cwd: app, env: cleanEnv(env), timeout: 120_000, maxBuffer: 16 * 1024 * 1024 });

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'weft-packages-'));
    app = join(work, 'app');
    const tarballs = join(work, 'tarballs');
    // npm test type-checks the tree first; this test is about packaging, so tsc's errors do not stop the build here.
    const { stdout } = await run(process.execPath, [join(ROOT, 'tools', 'packages', 'build.js'), '--allow-type-errors', '--pack', tarballs], { cwd: ROOT, timeout: 240_000, maxBuffer: 16 * 1024 * 1024 });
    const packed = JSON.parse(stdout) as Record<string, string>;
    // The starter project of `weft init`, made by the CLI under test (from sources: the same code).
    await run(process.execPath, [join(ROOT, 'libs', 'cli', 'bin', 'weft.js'), 'init', app], { cwd: work, timeout: 60_000 });
    // Its @weft/* dependencies come from the tarballs (not published), the rest from the npm cache or registry.
    await inApp('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', ...Object.values(packed)]);
  }, 420_000);

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it('the SDK type-checks with tsc (its types are real: a wrong `needs` does not compile) and loads as ESM and CommonJS', async () => {
    await writeFile(
      join(app, 'typed.ts'),
      [
        "import { workflow, type WorkflowSpec } from '@weft/sdk';",
        "const ok: WorkflowSpec = workflow('typed').step('a', 'noop').step('b', 'noop', { needs: ['a'] }).build();",
        '// @ts-expect-error a need that names no earlier step',
        "workflow('typo').step('a', 'noop').step('b', 'noop', { needs: ['x'] });",
        'export default ok;',
        '',
      ].join('\n'),
    );
    await inApp('npx', ['tsc', '-p', '.']);
    const esm = await inApp(process.execPath, ['--input-type=module', '-e', "import { workflow, defineAction, startWorker, WeftClient } from '@weft/sdk'; console.log([workflow, defineAction, startWorker, WeftClient].map((f) => typeof f).join())"]);
    expect(esm.stdout.trim()).toBe('function,function,function,function');
    const cjs = await inApp(process.execPath, ['-e', "const s = require('@weft/sdk'); console.log(typeof s.workflow, typeof require('@weft/cli').startEmbedded)"]);
    expect(cjs.stdout.trim()).toBe('function function');
  }, 120_000);

  it('weft run runs the starter YAML and TypeScript workflows with the defineAction handler of actions.ts, embedded', async () => {
    await inApp('npx', ['weft', 'validate', 'workflows/hello.yaml', 'workflows/hello.ts']);
    for (const file of ['workflows/hello.yaml', 'workflows/hello.ts']) {
      const { stdout } = await inApp('npx', ['weft', 'run', file, '--actions', 'actions.ts', '--input', 'name=ada', '--json']);
      const report = JSON.parse(stdout) as Report;
      expect({ file, status: report.status, outputs: report.outputs }).toEqual({ file, status: 'completed', outputs: { text: 'hello ada' } });
    }
  }, 120_000);

  it('startWorker serves the action to `weft dev` on NATS + PostgreSQL, and WeftClient runs a workflow there', async () => {
    const port = await freePort();
    const unique = `pkg${randomUUID().replace(/-/g, '').slice(0, 10)}`;
    const deployment = { NATS_URL: SHARED_NATS_URL, WEFT_NATS_PREFIX: unique, DATABASE_URL: POSTGRES_TEST_URL, WEFT_DB_SCHEMA: unique };
    await writeFile(
      join(app, 'worker.ts'),
      [
        "import { startWorker, WeftClient, workflow, workflowToYaml } from '@weft/sdk';",
        "import { greet } from './actions';",
        'async function main(): Promise<void> {',
        "  const running = await startWorker({ natsUrl: String(process.env.NATS_URL), prefix: process.env.WEFT_NATS_PREFIX, queues: ['pkg'], actions: [greet] });",
        '  try {',
        '    const client = new WeftClient({ url: String(process.env.WEFT_API_URL) });',
        "    const spec = workflow('hello-worker').step('hi', 'greet', { with: { name: 'grace' }, queue: 'pkg' }).output('text', '${{ steps.hi.output.text }}').build();",
        '    const run = await client.runs.execute({ source: workflowToYaml(spec) });',
        '    console.log(JSON.stringify({ status: run.status, outputs: run.outputs }));',
        '  } finally {',
        '    await running.stop();',
        '  }',
        '}',
        'void main();',
        '',
      ].join('\n'),
    );
    await inApp('npx', ['tsc', '-p', '.', '--noEmit', 'false', '--outDir', 'out']);

    const dev = spawn(process.execPath, [join(app, 'node_modules', '@weft', 'cli', 'bin', 'weft.js'), 'dev', '-p', String(port)], {
      cwd: app,
      env: cleanEnv(deployment),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(dev);
    let output = '';
    dev.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    dev.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      await waitFor(async () => dev.exitCode === null && (await fetch(`http://127.0.0.1:${port}/health/ready`)).ok, { timeoutMs: 60_000, intervalMs: 200, what: 'weft dev to be ready' });
      const { stdout } = await inApp(process.execPath, [join('out', 'worker.js')], { ...deployment, WEFT_API_URL: `http://127.0.0.1:${port}` });
      expect(JSON.parse(stdout.trim().split('\n').at(-1) ?? '')).toEqual({ status: 'completed', outputs: { text: 'hello grace' } });
      // A spec over 16 KiB is checked on the API's worker thread, which loads the installed package's compiled module.
      const big = 'apiVersion: weft/v1\nkind: Workflow\nname: big\nsteps:\n' + Array.from({ length: 2_000 }, (_, i) => `  - {id: s${i}, action: noop${i === 7 ? ', needs: [nope]' : ''}}\n`).join('');
      const verdict = await fetch(`http://127.0.0.1:${port}/v1/validate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ source: big }) });
      expect(await verdict.json()).toMatchObject({ valid: false, diagnostics: [expect.objectContaining({ code: 'UNKNOWN_NEED', line: 12 })] });
      expect(output).not.toContain('spec check thread');
      dev.kill('SIGINT');
      await waitFor(() => dev.exitCode !== null, { timeoutMs: 30_000, what: 'weft dev to stop' });
      expect(dev.exitCode).toBe(0);
    } catch (error) {
      if (error instanceof Error) error.message += `\n--- weft dev ---\n${output}`;
      throw error;
    } finally {
      await dropSchema(unique).catch(() => undefined);
    }
  }, 180_000);

  it('ships README, engines and conditional exports in every package, and no path into the repository', async () => {
    for (const name of ['sdk', 'cli', 'core']) {
      const pkg = JSON.parse(await readFile(join(app, 'node_modules', '@weft', name, 'package.json'), 'utf8')) as Record<string, unknown>;
      expect(pkg).toMatchObject({ engines: { node: expect.any(String) }, exports: { '.': { import: expect.any(Object), require: expect.any(Object) } } });
      expect(JSON.stringify(pkg)).not.toMatch(/src\/index\.ts|workspace:|\.\.\//);
      await expect(readFile(join(app, 'node_modules', '@weft', name, 'README.md'), 'utf8')).resolves.toContain('@weft/');
    }
  });
});
