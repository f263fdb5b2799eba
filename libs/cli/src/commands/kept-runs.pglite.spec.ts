import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { weftIn } from '../testing/weft-process.util';

// The "done means": `weft run x.yaml && weft history <id> && weft runs list` in a fresh
// folder with no services: the run is kept in .weft/data (PGlite) and read back from there.
describe('weft run keeps its runs in the local store', () => {
  let dir: string;
  const weft = (args: string[]) => weftIn(dir, args);

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'weft-kept-'));
    writeFileSync(join(dir, 'x.yaml'), 'apiVersion: weft/v1\nkind: Workflow\nname: kept\nsteps:\n  - id: a\n    action: log\n    with: { message: hi }\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('weft run x.yaml, then weft history <its id> and weft runs list find it', async () => {
    const run = await weft(['run', 'x.yaml', '--json']);
    expect(run).toMatchObject({ code: 0 });
    const { runId } = JSON.parse(run.stdout) as { runId: string };

    const history = await weft(['history', runId]);
    expect({ code: history.code, stderr: history.stderr }).toEqual({ code: 0, stderr: '' });
    expect(history.stdout).toContain(`run ${runId} · kept`);
    expect(history.stdout).toContain('run completed');

    const list = await weft(['runs', 'list', '--json']);
    expect(list.code).toBe(0);
    expect((JSON.parse(list.stdout) as { items: { runId: string; status: string }[] }).items).toEqual([expect.objectContaining({ runId, status: 'completed' })]);

    const insights = await weft(['insights', '--json']);
    expect(insights.code).toBe(0);

    const notKept = await weft(['run', 'x.yaml', '--json', '--no-store']);
    expect(notKept.code).toBe(0);
    const after = await weft(['runs', 'list', '--json']);
    expect((JSON.parse(after.stdout) as { items: unknown[] }).items).toHaveLength(1);
  }, 240_000);

  // weft run keeps a run without starting PGlite: it writes .weft/data.pending/<time>-<runId>.json, and the
  // next opener of the store (here weft history) imports it, the child run with its parent.
  it('a parent and its child run are kept in a pending file that the next reader imports, once', async () => {
    for (const name of ['parent-child.yaml', 'large-orders.yaml']) copyFileSync(join(__dirname, '..', '..', '..', '..', 'examples', name), join(dir, name));
    const run = await weft(['run', 'parent-child.yaml', '--json']);
    expect(run).toMatchObject({ code: 0 });
    const { runId } = JSON.parse(run.stdout) as { runId: string };
    const pending = join(dir, '.weft', 'data.pending');
    expect(readdirSync(pending)).toEqual([expect.stringMatching(new RegExp(`^\\d+-${runId}\\.json$`))]);
    expect(existsSync(join(dir, '.weft', 'data.lock'))).toBe(false);

    const history = await weft(['history', runId, '--json']);
    expect(history.code).toBe(0);
    const children = (JSON.parse(history.stdout) as { children?: { parentRunId: string; workflow: string; status: string }[] }).children;
    expect(children).toEqual([expect.objectContaining({ parentRunId: runId, workflow: 'large-orders', status: 'completed' })]);
    expect(readdirSync(pending)).toEqual([]);

    // A file that cannot be read is set aside, and the reader goes on.
    writeFileSync(join(pending, '1-broken.json'), '{"format": 1, "runs": [');
    const list = await weft(['runs', 'list', '--json', '--workflow', 'large-orders']);
    expect(list.code).toBe(0);
    expect((JSON.parse(list.stdout) as { items: { status: string }[] }).items).toEqual([expect.objectContaining({ status: 'completed' })]);
    expect(readdirSync(pending)).toEqual(['1-broken.json.invalid']);
  }, 240_000);

  it('a store another live process holds is one clear message naming it, exit 2, and the store is left alone', async () => {
    // This jest worker stands in for a running `weft dev`: alive, and not the weft process.
    writeFileSync(join(dir, '.weft', 'data.lock'), JSON.stringify({ pid: process.pid, command: 'weft dev -p 8080', since: '2026-12-06T00:00:00.000Z' }));
    try {
      const run = await weft(['run', 'x.yaml']);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`is in use by \`weft dev -p 8080\` (pid ${process.pid}`);
      expect(run.stderr).toContain('--no-store');
      const history = await weft(['runs', 'list']);
      expect(history.stderr).toContain('in use by `weft dev -p 8080`');
    } finally {
      rmSync(join(dir, '.weft', 'data.lock'), { force: true });
    }
  }, 120_000);
});
