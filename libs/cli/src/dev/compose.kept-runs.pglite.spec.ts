import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InMemoryBus } from '@weft/bus';
import { loadConfig } from '@weft/config';
import { bootService, type ServiceHandle } from '@weft/platform';
import { startEmbedded } from '../embedded/embedded-runtime';
import { keepRunsInFile, pendingDirOf } from '../embedded/kept-runs';
import { loadWorkflow } from '../load-workflow';
import { composeDev } from './compose';

/**
 * A run `weft run` kept for a PGlite directory (in `<dir>.pending/`, without opening PGlite) is
 * in `weft dev`'s API once `weft dev` starts on that directory: the console reads the same run,
 * its history and its steps as if the run had been written to the store as it went.
 */
describe('weft dev imports the runs weft run kept for its directory', () => {
  let root: string;
  let service: ServiceHandle | undefined;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'weft-dev-kept-'));
  });

  afterAll(async () => {
    await service?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('GET /v1/runs/:id and its history answer for a kept run; the pending file is gone', async () => {
    const dataDir = join(root, 'data');
    const file = join(root, 'kept.yaml');
    await writeFile(file, 'apiVersion: weft/v1\nkind: Workflow\nname: kept\nsteps:\n  - id: a\n    action: noop\n  - id: b\n    needs: [a]\n    action: noop\n');
    const { spec } = await loadWorkflow(file);
    if (!spec) throw new Error('kept.yaml did not load');

    // What `weft run` does on a PGlite directory (run.command.ts): lock, run in memory, write at the end.
    const bus = new InMemoryBus();
    const kept = await keepRunsInFile(dataDir, bus);
    const runtime = await startEmbedded({ bus, store: kept.store, logger: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined } });
    let runId: string;
    try {
      const state = await runtime.run(spec, {});
      runId = state.runId;
      expect(await kept.settle(bus)).toBe(true);
    } finally {
      await runtime.close();
      await kept.close();
    }
    expect(await readdir(pendingDirOf(dataDir))).toHaveLength(1);
    expect(existsSync(`${dataDir}.lock`)).toBe(false);

    const composition = await composeDev(loadConfig({ WEFT_DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: '0' }), []);
    service = await bootService(composition.module, { name: 'dev', port: 0, host: '127.0.0.1', handleSignals: false });
    expect(await readdir(pendingDirOf(dataDir))).toEqual([]);

    const run = await fetch(`${service.url}/v1/runs/${runId}`);
    expect(run.status).toBe(200);
    expect(await run.json()).toMatchObject({ runId, workflow: 'kept', status: 'completed' });
    const history = await fetch(`${service.url}/v1/runs/${runId}/history`);
    expect(history.status).toBe(200);
    const body = (await history.json()) as { run: { status: string }; steps: { stepId: string; status: string }[] };
    expect(body.run.status).toBe('completed');
    expect(body.steps.map((s) => [s.stepId, s.status])).toEqual([
      ['a', 'completed'],
      ['b', 'completed'],
    ]);
  }, 180_000);
});
