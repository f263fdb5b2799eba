import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InsightsHttp, JournalHttp } from '@weft/contracts';
import { WeftApiError, WeftClient } from '@weft/sdk';

// `weft dev` as a child process (in-memory bus, PGlite in memory), and the CLI's API verbs
// as a user runs them against it: separate processes, real HTTP, exit codes, stdout.
const root = join(__dirname, '..', '..', '..', '..');
const bin = join(root, 'libs', 'cli', 'bin', 'weft.js');
// WEFT_HTTP_ALLOW: a step calls a server of this test on loopback, which http.request refuses unless allowed.
// WEFT_ADMIN_KEY: weft dev's admin credential, the only API caller that may mint keys for another namespace (issue 12).
const ADMIN_KEY = 'api-verbs-e2e-admin-key-0123456789abcdef';
const env: NodeJS.ProcessEnv = {
  ...process.env,
  FORCE_COLOR: '0',
  NO_COLOR: '1',
  WEFT_DATA_DIR: 'memory://',
  LOG_LEVEL: 'warn',
  WEFT_HTTP_ALLOW: '127.0.0.1/32',
  WEFT_ADMIN_KEY: ADMIN_KEY,
};
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

    // Loopback is no credential for another namespace; the admin key is.
    const anonymous = await weft(['keys', 'create', '--namespace', 'team-a', '--api', dev.url]);
    expect(anonymous.code).toBe(2);
    expect(anonymous.stderr).toContain('FORBIDDEN');
    const key = await weft(['keys', 'create', '--namespace', 'team-a', '--api', dev.url], { WEFT_API_KEY: ADMIN_KEY });
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

  it('workflows run (followed and --async), runs output, workflows archive, catalog actions, keys list/revoke', async () => {
    // A workflow of its own: version 1 published, version 2 not.
    const text = (await readFile(join(root, 'examples', 'diamond.yaml'), 'utf8')).replace('name: diamond', 'name: verbs');
    const v1 = join(dir, 'verbs-1.yaml');
    const v2 = join(dir, 'verbs-2.yaml');
    await writeFile(v1, text);
    await writeFile(v2, text.replace('default: 41', 'default: 1'));
    expect((await weft(['workflows', 'push', v1, '--publish', '--api', dev.url])).code).toBe(0);
    expect((await weft(['workflows', 'push', v2, '--api', dev.url])).stdout).toContain('version 2 created');

    // Followed: the progress lines and exit code of weft run --api; the inputs typed by the stored spec.
    const followed = await weft(['workflows', 'run', 'verbs', '--input', 'count=10', '--api', dev.url]);
    expect(followed).toMatchObject({ code: 0, stderr: '' });
    expect(followed.stdout).toMatch(/▶ run \S+ \(verbs\) started/);
    expect(followed.stdout).toMatch(/run completed in .* \(4 completed\)/);
    const report = JSON.parse((await weft(['workflows', 'run', 'verbs', '--workflow-version', '2', '--json', '--api', dev.url])).stdout) as { runId: string };
    expect(report).toMatchObject({ workflow: 'verbs', status: 'completed', inputs: { count: 1 }, outputs: { answer: 2 } });
    expect((await weft(['runs', 'show', report.runId, '--api', dev.url])).stdout).toContain(`run ${report.runId}: verbs version 2, completed`);
    expect((await weft(['workflows', 'run', 'verbs', '--input', 'count=ten', '--api', dev.url])).code).toBe(2);

    // --async: the run id alone on stdout; the same idempotency key, the same run.
    const queued = await weft(['workflows', 'run', 'verbs', '--async', '--idempotency-key', 'verbs-1', '-i', 'count=5', '--api', dev.url]);
    expect(queued.code).toBe(0);
    const runId = queued.stdout.trim();
    expect(runId).toMatch(/^\S+$/);
    const again = await weft(['workflows', 'run', 'verbs', '--async', '--idempotency-key', 'verbs-1', '-i', 'count=5', '--api', dev.url]);
    expect(again.stdout.trim()).toBe(runId);
    expect(again.stderr).toContain('started earlier with idempotency key verbs-1');
    expect((await weft(['logs', runId, '--follow', '--api', dev.url])).code).toBe(0);
    const output = await weft(['runs', 'output', runId, '--api', dev.url]);
    expect(output).toMatchObject({ code: 0, stderr: '' });
    expect(output.stdout).toContain(`run ${runId}: completed`);
    expect(JSON.parse((await weft(['runs', 'output', runId, '--json', '--api', dev.url])).stdout)).toMatchObject({ runId, status: 'completed', outputs: { answer: 6 }, error: null });
    expect((await weft(['runs', 'output', 'no-such-run', '--api', dev.url])).code).toBe(2);

    // Archive: never the published version; an archived one no longer runs.
    expect(await weft(['workflows', 'archive', 'verbs', '2', '--api', dev.url])).toMatchObject({ code: 0, stdout: 'verbs: version 2 archived\n' });
    const published = await weft(['workflows', 'archive', 'verbs', '1', '--api', dev.url]);
    expect(published.code).toBe(2);
    expect(published.stderr).toContain('(VERSION_PUBLISHED)');
    expect((await weft(['workflows', 'show', 'verbs', '--api', dev.url])).stdout).toMatch(/^2\s+archived\s+sha256:/m);
    const archived = await weft(['workflows', 'run', 'verbs', '--workflow-version', '2', '--api', dev.url]);
    expect(archived.code).toBe(2);
    expect(archived.stderr).toContain('(VERSION_ARCHIVED)');

    const actions = await weft(['catalog', 'actions', '--api', dev.url]);
    expect(actions.code).toBe(0);
    expect(actions.stdout).toMatch(/^NAME\s+SOURCE\s+QUEUES\s+DESCRIPTION$/m);
    expect(actions.stdout).toMatch(/^transform\s+builtin/m);
    const names = (JSON.parse((await weft(['catalog', 'actions', '--json', '--api', dev.url])).stdout) as { name: string }[]).map((a) => a.name);
    expect(names).toEqual(expect.arrayContaining(['noop', 'transform', 'log', 'http.request']));

    // Keys of namespace default (loopback needs none to ask): listed, revoked, then refused.
    const made = JSON.parse((await weft(['keys', 'create', '--name', 'verbs', '--json', '--api', dev.url])).stdout) as { key: string; keyId: string };
    const listed = await weft(['keys', 'list', '--api', dev.url]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`^${made.keyId}\\s+default\\s+verbs\\s+\\S+\\s+-$`, 'm'));
    expect((await weft(['runs', 'list', '--api', dev.url, '--api-key', made.key])).code).toBe(0);
    const revoked = await weft(['keys', 'revoke', made.keyId, '--api', dev.url]);
    expect(revoked).toMatchObject({ code: 0, stdout: expect.stringContaining(`key ${made.keyId} (namespace default) revoked`) });
    const keys = JSON.parse((await weft(['keys', 'list', '--json', '--api', dev.url])).stdout) as { keyId: string; revokedAt: string | null }[];
    expect(keys.find((k) => k.keyId === made.keyId)?.revokedAt).toEqual(expect.any(String));
    const refused = await weft(['runs', 'list', '--api', dev.url, '--api-key', made.key]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('(UNAUTHORIZED)');
    expect((await weft(['keys', 'revoke', 'no-such-key', '--api', dev.url])).code).toBe(2);
  });

  it('runs checkpoints, and the SDK\'s journal and insights methods, against the journal and analytics weft dev mounts', async () => {
    const client = new WeftClient({ url: dev.url });
    const run = await client.runs.execute({ source: await readFile(join(root, 'examples', 'diamond.yaml'), 'utf8') }, { inputs: { count: 10 } });
    expect(run.status).toBe('completed');
    // The journal and analytics follow the events on their own: wait until both saw the end.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const ended = (await client.runs.events(run.runId, { type: ['run.completed'] }).catch(() => ({ items: [] }))).items.length === 1;
      const counted = (await client.insights.summary({ workflow: 'diamond', since: '1h' })).runs.completed >= 1;
      if (ended && counted) break;
      if (Date.now() > deadline) throw new Error(`run ${run.runId} not journaled and counted within 30s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    const listed = await weft(['runs', 'checkpoints', run.runId, '--api', dev.url]);
    expect(listed).toMatchObject({ code: 0, stderr: '' });
    const lines = listed.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`run ${run.runId}: diamond version adhoc, 4 checkpoint(s)`);
    expect(lines[1]).toMatch(/^STEP\s+ATTEMPT\s+TIME\s+OUTPUT$/);
    expect(lines.slice(2).map((line) => line.split(/\s+/)[0]).sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(lines).toContainEqual(expect.stringMatching(/^a\s+1\s+\d{4}-\d\d-\d\dT\S+Z\s+\{"count":10\}$/));
    expect(lines).toContainEqual(expect.stringMatching(/^b\s+1\s+\S+\s+11$/));
    const one = await weft(['runs', 'checkpoints', run.runId, 'b', '--json', '--api', dev.url]);
    expect(one.code).toBe(0);
    const checkpoint = JournalHttp.Checkpoint.parse(JSON.parse(one.stdout));
    expect(checkpoint).toMatchObject({ runId: run.runId, stepId: 'b', output: 11, state: { a: { count: 10 }, b: 11 } });
    const missing = await weft(['runs', 'checkpoints', run.runId, 'zz', '--api', dev.url]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('(CHECKPOINT_NOT_FOUND)');
    expect((await weft(['runs', 'checkpoints', 'no-such-run', '--api', dev.url])).code).toBe(2);

    // The SDK's answers pass the API's schemas.
    expect(JournalHttp.CheckpointList.parse(await client.runs.checkpoints(run.runId))).toHaveLength(4);
    expect(await client.runs.checkpoint(run.runId, 'b')).toEqual(checkpoint);
    const history = JournalHttp.RunHistory.parse(await client.runs.history(run.runId));
    expect(history.run).toMatchObject({ runId: run.runId, status: 'completed' });
    expect(history.timeline.at(-1)?.type).toBe('run.completed');
    const reconstruction = JournalHttp.RunReconstruction.parse(await client.runs.reconstruct(run.runId));
    expect(reconstruction.steps.map((step) => step.stepId).sort()).toEqual(['a', 'b', 'c', 'd']);
    const completedSteps = JournalHttp.EventPage.parse(await client.runs.events(run.runId, { type: ['step.completed'], limit: 2 }));
    expect(completedSteps.items).toHaveLength(2);
    expect(completedSteps.nextCursor).not.toBeNull();
    // Across runs, paged with the cursor: every event of the run, in order, once.
    const paged: string[] = [];
    let cursor: string | undefined;
    do {
      const page = JournalHttp.EventPage.parse(await client.events({ runId: run.runId, limit: 3, ...(cursor !== undefined && { cursor }) }));
      paged.push(...page.items.map((e) => e.eventId));
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    expect(paged).toEqual(reconstruction.events.map((e) => e.eventId));
    expect(await client.runs.history('no-such-run').catch((e: unknown) => e instanceof WeftApiError && e.code)).toBe('RUN_NOT_FOUND');

    const summary = InsightsHttp.InsightSummary.parse(await client.insights.summary({ workflow: 'diamond', since: '1h', window: 2 }));
    expect(summary.window.workflow).toBe('diamond');
    expect(summary.trend.window).toBe(2);
    const steps = InsightsHttp.InsightSteps.parse(await client.insights.steps({ workflow: 'diamond', since: '1h' }));
    expect(steps.steps.find((step) => step.stepId === 'b')?.completed).toBeGreaterThanOrEqual(1);
    InsightsHttp.InsightHotspots.parse(await client.insights.hotspots({ since: '1h', limit: 3 }));
    expect(InsightsHttp.InsightTrend.parse(await client.insights.trends({ since: '1h', granularity: 'hour' })).trend.granularity).toBe('hour');
    expect(await client.insights.trends({ granularity: 'week' as 'hour' }).catch((e: unknown) => e instanceof WeftApiError && e.code)).toBe('INVALID_QUERY');
  });
});
