import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { workflowsPush, workflowsRun } from '../../libs/cli/src/commands/workflows.command';
import { captureIo } from '../../libs/cli/src/commands/__fixtures__/recording-server';
import { type ApiApp, startApiApp } from '../support/api-app.harness';
import { describeDistributed } from '../distributed/support/infra.util';

/**
 * Issue 13 item 7: runs record their source. The CLI names itself (`Weft-Source: cli`), so a
 * run `weft workflows run` starts keeps source `cli` with the caller as actor; the API's other
 * callers keep `api`; a header naming anything else is 400.
 */

async function json<T>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

const SPEC = 'apiVersion: weft/v1\nkind: Workflow\nname: sourced\nsteps:\n  - id: only\n    action: transform\n    with: { expr: "1" }\n';

describeDistributed('run source cli (NATS JetStream + PostgreSQL)', { nats: true, postgres: true }, () => {
  let app: ApiApp;
  let key: string;
  let dir: string;

  beforeAll(async () => {
    app = await startApiApp({ worker: false });
    key = await app.key();
    dir = await mkdtemp(join(tmpdir(), 'weft-source-'));
  }, 30_000);

  afterAll(async () => {
    await app?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  }, 30_000);

  const run = async (runId: string): Promise<{ source: string; actor: unknown }> => json(await app.request('GET', `/v1/runs/${runId}`, { key }));

  it('a run weft workflows run starts has source cli and the key as actor', async () => {
    const file = join(dir, 'sourced.yaml');
    await writeFile(file, SPEC);
    const flags = { api: app.url, apiKey: key };
    expect(await workflowsPush(file, { ...flags, publish: true }, captureIo())).toBe(0);
    const io = captureIo();
    expect(await workflowsRun('sourced', { ...flags, async: true }, io)).toBe(0);
    const runId = io.lines[0] ?? '';
    expect(await run(runId)).toMatchObject({ source: 'cli', actor: { keyId: expect.any(String), name: 'test' } });
    const reconstructed = await app.store.getRun(runId);
    expect(reconstructed?.source).toBe('cli');
  }, 30_000);

  it('the API keeps api without the header, takes cli with it, and refuses anything else', async () => {
    const spec = { apiVersion: 'weft/v1', kind: 'Workflow', name: 'sourced-adhoc', steps: [{ id: 'only', action: 'transform', with: { expr: '1' } }] };
    const plain = await json<{ runId: string }>(await app.request('POST', '/v1/runs/adhoc', { key, json: { spec } }));
    expect((await run(plain.runId)).source).toBe('api');
    const cli = await json<{ runId: string }>(await app.request('POST', '/v1/runs/adhoc', { key, json: { spec }, headers: { 'Weft-Source': 'cli' } }));
    expect((await run(cli.runId)).source).toBe('cli');
    const forged = await app.request('POST', '/v1/runs/adhoc', { key, json: { spec }, headers: { 'Weft-Source': 'trigger:nightly' } });
    expect(forged.status).toBe(400);
    expect(await json(forged)).toMatchObject({ errors: [expect.objectContaining({ path: 'header.Weft-Source' })] });
    const stored = await app.query<{ n: number }>(`SELECT count(*)::int AS n FROM runs WHERE workflow = 'sourced-adhoc'`);
    expect(stored[0]?.n).toBe(2);
  }, 30_000);
});
