import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// `weft dev` as a child process (in-memory bus, PGlite in memory), and the CLI's API verbs
// as a user runs them against it: separate processes, real HTTP, exit codes, stdout.
const root = join(__dirname, '..', '..', '..', '..');
const bin = join(root, 'libs', 'cli', 'bin', 'weft.js');
const env: NodeJS.ProcessEnv = { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1', WEFT_DATA_DIR: 'memory://', LOG_LEVEL: 'warn' };
delete env.NATS_URL;
delete env.DATABASE_URL;
delete env.WEFT_API_URL;
delete env.WEFT_API_KEY;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function weft(args: string[], extraEnv: Record<string, string> = {}, onStdout?: (stdout: string) => void): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: root, env: { ...env, ...extraEnv } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      onStdout?.(stdout);
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Starts `weft dev --port 0` and resolves with the URL it prints. */
function startDev(): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, 'dev', '--port', '0'], { cwd: root, env });
    let output = '';
    const timer = setTimeout(() => reject(new Error(`weft dev printed no URL within 60s:\n${output}`)), 60_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
      if (url && output.includes('loopback only')) {
        clearTimeout(timer);
        resolve({ child, url, output: () => output });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => reject(new Error(`weft dev exited (${code}) before it listened:\n${output}`)));
  });
}

/** Strips what differs between two runs of the same workflow (ids, times). */
function shape(report: Record<string, unknown> & { steps: Record<string, unknown>[] }): unknown {
  const { runId: _r, startedAt: _s, finishedAt: _f, durationMs: _d, ...rest } = report;
  return { ...rest, steps: report.steps.map(({ startedAt: _a, finishedAt: _b, durationMs: _c, ...step }) => step) };
}

jest.setTimeout(120_000);

describe('weft API verbs against weft dev (processes)', () => {
  let dev: Awaited<ReturnType<typeof startDev>>;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'weft-api-verbs-'));
    dev = await startDev();
  }, 90_000);

  afterAll(async () => {
    if (dev) {
      const exited = new Promise((resolve) => dev.child.once('exit', resolve));
      dev.child.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('weft dev says where it listens and that loopback needs no key', () => {
    expect(dev.output()).toMatch(/API: http:\/\/127\.0\.0\.1:\d+\/v1, OpenAPI: http:\/\/127\.0\.0\.1:\d+\/openapi\.json/);
    expect(dev.output()).toContain('loopback only: the API takes requests without a key (namespace default)');
  });

  it('weft run --api prints the same --json document as an embedded run, and the same progress lines', async () => {
    const remote = await weft(['run', 'examples/diamond.yaml', '--json', '--input', 'count=10', '--api', dev.url]);
    const embedded = await weft(['run', 'examples/diamond.yaml', '--json', '--input', 'count=10']);
    expect(remote.stderr).toBe('');
    expect(remote.code).toBe(0);
    expect(embedded.code).toBe(0);
    const remoteReport = JSON.parse(remote.stdout) as Record<string, unknown> & { steps: Record<string, unknown>[] };
    expect(remoteReport).toMatchObject({ workflow: 'diamond', status: 'completed', outputs: { answer: 11, doubled: 20 } });
    expect(shape(remoteReport)).toEqual(shape(JSON.parse(embedded.stdout) as Record<string, unknown> & { steps: Record<string, unknown>[] }));
    expect(Object.keys(remoteReport).sort()).toEqual(Object.keys(JSON.parse(embedded.stdout) as object).sort());

    const plain = await weft(['run', 'examples/flaky-retry.yaml', '--api', dev.url]);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/▶ run \S+ \(flaky-retry\) started/);
    expect(plain.stdout).toMatch(/call_upstream attempt 1 failed: HTTP_503 .*retrying in 100ms/);
    expect(plain.stdout).toMatch(/✓ report completed/);
    expect(plain.stdout).toMatch(/run completed in .* \(2 completed\)/);
  });

  it('weft run --api: an invalid file or inputs exit 2 before anything is sent; a failing run exits 1', async () => {
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, 'apiVersion: weft/v1\nkind: Workflow\nname: bad\nsteps:\n  - id: a\n    action: noop\n    needs: [zz]\n');
    const invalid = await weft(['run', bad, '--api', dev.url]);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain(`${bad}:7:`);
    expect((await weft(['run', 'examples/diamond.yaml', '--input', 'count=x', '--api', dev.url])).code).toBe(2);
    const failing = join(dir, 'failing.yaml');
    await writeFile(failing, 'apiVersion: weft/v1\nkind: Workflow\nname: failing\nsteps:\n  - id: boom\n    action: fail\n    with: { message: nope }\n');
    const failed = await weft(['run', failing, '--api', dev.url, '--json']);
    expect(failed.code).toBe(1);
    expect(JSON.parse(failed.stdout)).toMatchObject({ status: 'failed', steps: [{ id: 'boom', status: 'failed', error: { message: 'nope' } }] });
  });

  it('workflows push/list/show/publish, runs list/show/rerun, logs --follow, and keys by namespace', async () => {
    const pushed = await weft(['workflows', 'push', 'examples/diamond.yaml', '--publish', '--api', dev.url]);
    expect(pushed.code).toBe(0);
    expect(pushed.stdout).toMatch(/diamond: registered \(revision 1\); version 1 created/);
    expect(pushed.stdout).toContain('diamond: version 1 published');
    const again = await weft(['workflows', 'push', 'examples/diamond.yaml', '--api', dev.url]);
    expect(again.stdout).toMatch(/diamond: draft unchanged \(revision 1\); same spec as version 1/);
    // Only comments and layout differ: the same spec, so still unchanged.
    const text = await readFile(join(root, 'examples', 'diamond.yaml'), 'utf8');
    const recommented = join(dir, 'diamond.yaml');
    await writeFile(recommented, `# pushed again from elsewhere\n${text}\n\n`);
    const pushedJson = JSON.parse((await weft(['workflows', 'push', recommented, '--json', '--api', dev.url])).stdout) as Record<string, unknown>;
    expect(pushedJson).toMatchObject({ workflow: 'diamond', registered: false, draftChanged: false, draftRevision: 1, version: 1, newVersion: false });
    const changed = join(dir, 'diamond-42.yaml');
    await writeFile(changed, text.replace('default: 41', 'default: 42'));
    const saved = await weft(['workflows', 'push', changed, '--api', dev.url]);
    expect(saved.stdout).toMatch(/diamond: draft saved \(revision 2\); version 2 created/);
    const list = await weft(['workflows', 'list', '--api', dev.url]);
    expect(list.stdout).toMatch(/^NAME\s+PUBLISHED\s+LATEST/m);
    expect(list.stdout).toMatch(/^diamond\s+1\s+2\s+rev 2/m);
    const show = await weft(['workflows', 'show', 'diamond', '--api', dev.url]);
    expect(show.stdout).toMatch(/^1\s+published\s+sha256:/m);
    expect((await weft(['workflows', 'publish', 'diamond', '7', '--api', dev.url])).code).toBe(2);

    const first = JSON.parse((await weft(['run', 'examples/diamond.yaml', '--json', '--api', dev.url])).stdout) as { runId: string };
    const runs = await weft(['runs', 'list', '--workflow', 'diamond', '--api', dev.url]);
    expect(runs.stdout).toContain(first.runId);
    const shown = await weft(['runs', 'show', first.runId, '--api', dev.url]);
    expect(shown.stdout).toMatch(new RegExp(`run ${first.runId}: diamond version adhoc, completed`));

    const rerun = await weft(['runs', 'rerun', first.runId, '--from', 'd', '--follow', '--json', '--api', dev.url]);
    expect(rerun.code).toBe(0);
    const rerunReport = JSON.parse(rerun.stdout) as { runId: string; steps: { id: string; attempts: number }[] };
    expect(rerunReport.steps.map((s) => [s.id, s.attempts])).toEqual([
      ['a', 0],
      ['b', 0],
      ['c', 0],
      ['d', 1],
    ]);
    const rerunShown = await weft(['runs', 'show', rerunReport.runId, '--api', dev.url]);
    expect(rerunShown.stdout).toContain(`rerun of ${first.runId} from d`);
    expect(rerunShown.stdout).toMatch(new RegExp(`^a\\s+completed\\s+0\\s+-\\s+reused from ${first.runId}`, 'm'));

    // A run started by someone else (plain HTTP), followed live from the CLI. Its first step
    // calls a server of this test, which answers only once the follower is attached.
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const gate = createServer((_req, res) => void held.then(() => res.end('{"go":true}')));
    await new Promise<void>((resolve) => gate.listen(0, '127.0.0.1', resolve));
    try {
      const gateUrl = `http://127.0.0.1:${(gate.address() as AddressInfo).port}/`;
      const spec = {
        apiVersion: 'weft/v1',
        kind: 'Workflow',
        name: 'held',
        steps: [{ id: 'hold', action: 'http.request', with: { url: gateUrl } }, { id: 'after', needs: ['hold'], action: 'noop' }],
      };
      const started = await fetch(`${dev.url}/v1/runs/adhoc`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ spec }) });
      const { runId } = (await started.json()) as { runId: string };
      const logs = await weft(['logs', runId, '--follow', '--api', dev.url], {}, (stdout) => {
        if (stdout.includes('(held) started')) release();
      });
      expect(logs.code).toBe(0);
      expect(logs.stdout).toMatch(/✓ hold completed/);
      expect(logs.stdout).toMatch(/✓ after completed/);
      expect(logs.stdout).toMatch(/run completed/);
    } finally {
      release();
      await new Promise((resolve) => gate.close(resolve));
    }

    const key = await weft(['keys', 'create', '--namespace', 'team-a', '--api', dev.url]);
    expect(key.code).toBe(0);
    const secret = key.stdout.trim();
    expect(secret).toMatch(/^weft_[0-9a-f]{12}_/);
    expect(key.stderr).toContain('for namespace team-a: shown once');
    const theirs = await weft(['runs', 'list', '--api', dev.url], { WEFT_API_KEY: secret });
    expect(theirs.stdout.trim()).toBe('no runs');
    const hidden = await weft(['runs', 'show', first.runId, '--api', dev.url, '--api-key', secret]);
    expect(hidden.code).toBe(2);
    expect(hidden.stderr).toContain(`Not Found (RUN_NOT_FOUND): no run ${first.runId}`);
    const wrong = await weft(['runs', 'list', '--api', dev.url, '--api-key', 'weft_0123456789ab_nope']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('Unauthorized (UNAUTHORIZED)');
  });
});
