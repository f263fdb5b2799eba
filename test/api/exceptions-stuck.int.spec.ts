import { type ApiApp, startApiApp } from '../support/api-app.harness';
import { describeDistributed } from '../distributed/support/infra.util';
import { waitFor } from '../distributed/support/wait.util';

/**
 * Issue 13 item 6: a run with steps dispatched and no progress for WEFT_STUCK_AFTER is
 * `blocked` in the exception queue (here 1 s, and no worker, so the dispatched step never
 * moves); resolving it leaves the queue with an audit record; other namespaces see nothing.
 */

interface Item {
  kind: string;
  id: string;
  runId: string;
  stepId?: string;
  summary: string;
}

async function json<T>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

const lone = { apiVersion: 'weft/v1', kind: 'Workflow', name: 'lone', steps: [{ id: 'only', action: 'transform', with: { expr: '1' } }] };

describeDistributed('stuck runs in the exception queue (NATS JetStream + PostgreSQL)', { nats: true, postgres: true }, () => {
  let app: ApiApp;
  let key: string;

  beforeAll(async () => {
    app = await startApiApp({ worker: false, stuckAfterMs: 1_000 });
    key = await app.key();
  }, 30_000);

  afterAll(async () => {
    await app?.close();
  }, 30_000);

  const blocked = async (apiKey = key): Promise<Item[]> =>
    (await json<{ items: Item[] }>(await app.request('GET', '/v1/exceptions?kind=blocked&limit=200', { key: apiKey }))).items;

  it('lists a run whose dispatched step made no progress as blocked, resolves it once, per namespace', async () => {
    const response = await app.request('POST', '/v1/runs/adhoc', { key, json: { spec: lone } });
    expect(response.status).toBe(202);
    const { runId } = await json<{ runId: string }>(response);
    // Not before WEFT_STUCK_AFTER: a young run is not stuck.
    expect((await blocked()).filter((i) => i.runId === runId)).toEqual([]);
    let items: Item[] = [];
    await waitFor(
      async () => {
        items = (await blocked()).filter((i) => i.runId === runId);
        return items.length > 0;
      },
      { timeoutMs: 10_000, what: 'the run to be listed as stuck' },
    );
    expect(items).toEqual([expect.objectContaining({ kind: 'blocked', id: runId, runId, stepId: 'only', summary: expect.stringMatching(/^no progress since .*: only queued$/) })]);

    const stranger = await app.key('team-stuck-other');
    expect(await blocked(stranger)).toEqual([]);
    expect((await app.request('POST', `/v1/exceptions/blocked/${runId}/resolve`, { key: stranger, json: { note: 'not mine' } })).status).toBe(404);
    expect((await app.request('POST', `/v1/exceptions/blocked/${runId}/resolve`, { key, json: { note: 'no worker in staging' } })).status).toBe(200);
    expect((await app.request('POST', `/v1/exceptions/blocked/${runId}/resolve`, { key, json: { note: 'again' } })).status).toBe(409);
    expect((await blocked()).filter((i) => i.runId === runId)).toEqual([]);
    const audit = await json<{ items: { action: string; target: unknown }[] }>(await app.request('GET', `/v1/audit?action=exception.resolved`, { key }));
    expect(audit.items).toEqual([expect.objectContaining({ action: 'exception.resolved', target: { kind: 'blocked', id: runId } })]);
  }, 30_000);
});
