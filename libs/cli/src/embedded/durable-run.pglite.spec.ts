import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqlRunStore } from '@weft/scheduler';
import { startWeft, weftIn } from '../testing/weft-process.util';

const examples = join(__dirname, '..', '..', '..', '..', 'examples');

// weft run on PGlite keeps a run in memory (written at its end to .weft/data.pending) only when it waits for
// nothing and ends in seconds (keeps-in-memory.util); one that sleeps is written to the store as it goes,
// so a kill while it sleeps leaves it there, `running` with the steps done so far.
describe('weft run: runs that wait are written to the PGlite store as they go', () => {
  let dir: string;
  const weft = (args: string[]) => weftIn(dir, args);
  const pending = (): string[] => (existsSync(join(dir, '.weft', 'data.pending')) ? readdirSync(join(dir, '.weft', 'data.pending')) : []);

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'weft-durable-'));
    copyFileSync(join(examples, 'diamond.yaml'), join(dir, 'diamond.yaml'));
    writeFileSync(
      join(dir, 'nap.yaml'),
      'apiVersion: weft/v1\nkind: Workflow\nname: nap\nsteps:\n  - id: a\n    action: log\n    with: { message: hi }\n  - id: z\n    needs: [a]\n    action: sleep\n    with: { duration: 10m }\n',
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('examples/diamond.yaml goes in memory and is kept in .weft/data.pending; with --durable it is written to the store', async () => {
    const run = await weft(['run', 'diamond.yaml', '--json']);
    expect(run.code).toBe(0);
    const { runId } = JSON.parse(run.stdout) as { runId: string };
    expect(pending()).toEqual([expect.stringMatching(new RegExp(`^\\d+-${runId}\\.json$`))]);

    const durable = await weft(['run', 'diamond.yaml', '--json', '--durable']);
    expect(durable.code).toBe(0);
    const second = (JSON.parse(durable.stdout) as { runId: string }).runId;
    // The store's opener imported the first run's file; the second run left none.
    expect(pending()).toEqual([]);
    const list = await weft(['runs', 'list', '--json']);
    expect((JSON.parse(list.stdout) as { items: { runId: string; status: string }[] }).items.map((r) => [r.runId, r.status]).sort()).toEqual(
      [
        [runId, 'completed'],
        [second, 'completed'],
      ].sort(),
    );
  }, 240_000);

  it('a run killed (SIGKILL) while it sleeps is in the store, running with its first step completed', async () => {
    const { child, ended: result } = startWeft(dir, ['run', 'nap.yaml']);
    // Bounded: the run reaches its sleep (the live view says so), then the process is killed.
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const deadline = Date.now() + 120_000;
    while (!/z waiting/.test(out) && Date.now() < deadline && child.exitCode === null) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(out).toMatch(/z waiting/);
    const runId = /run ([0-9a-f-]{36}) \(nap\) started/.exec(out)?.[1];
    expect(runId).toBeDefined();
    child.kill('SIGKILL');
    expect((await result).code).toBeNull();
    expect(pending()).toEqual([]);

    // The run store has what the run did (the journal folds events after the fact: a kill may cut it short).
    const { store, dataSource } = await openSqlRunStore({ kind: 'pglite', dataDir: join(dir, '.weft', 'data') }, { migrate: false });
    try {
      const state = await store.getRun(String(runId));
      expect(state?.status).toMatch(/^(running|waiting)$/);
      expect(state?.steps['a']?.status).toBe('completed');
      expect(state?.steps['z']?.status).not.toBe('completed');
    } finally {
      await store.close();
      await dataSource.destroy();
    }
    const list = await weft(['runs', 'list', '--json']);
    expect((JSON.parse(list.stdout) as { items: { runId: string; status: string }[] }).items).toEqual(
      expect.arrayContaining([expect.objectContaining({ runId, status: expect.stringMatching(/^(running|waiting)$/) })]),
    );
  }, 240_000);
});
