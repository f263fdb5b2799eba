import { exceptionsAct, exceptionsShow } from '../../libs/cli/src/commands/waits.command';
import { captureIo } from '../../libs/cli/src/commands/__fixtures__/recording-server';
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
    // Queues without a worker are exceptions-queues.int.spec.ts's: not listed here (the catalog never settles).
    app = await startApiApp({ worker: false, stuckAfterMs: 1_000, workerSettleMs: 3_600_000 });
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

  it('acts on every open item a filter matches in bulk, answering counts, with one audit record', async () => {
    const runIds: string[] = [];
    for (let i = 0; i < 3; i++) runIds.push((await json<{ runId: string }>(await app.request('POST', '/v1/runs/adhoc', { key, json: { spec: { ...lone, name: 'bulky' } } }))).runId);
    await waitFor(async () => (await blocked()).filter((i) => runIds.includes(i.runId)).length === 3, { timeoutMs: 10_000, what: 'three stuck runs' });

    const bulk = (body: object, apiKey = key): Promise<Response> => app.request('POST', '/v1/exceptions/bulk', { key: apiKey, json: body });
    expect((await bulk({ filter: { kind: 'blocked' }, action: 'resolve' })).status).toBe(400);
    const stranger = await app.key('team-bulk-other');
    expect(await json(await bulk({ filter: { kind: 'blocked', workflow: 'bulky' }, action: 'cancel' }, stranger))).toEqual({ matched: 0, done: 0, skipped: 0, more: false });
    // retry resumes a stuck run (its step is dispatched again); with no worker it stays stuck.
    expect(await json(await bulk({ filter: { kind: 'blocked', workflow: 'bulky' }, action: 'retry' }))).toEqual({ matched: 3, done: 3, skipped: 0, more: false });
    expect(await json(await bulk({ filter: { kind: 'blocked', workflow: 'bulky' }, action: 'cancel' }))).toMatchObject({ done: 0 });
    await waitFor(async () => (await blocked()).filter((i) => runIds.includes(i.runId)).length === 3, { timeoutMs: 10_000, what: 'the resumed runs to be stuck again' });
    expect(await json(await bulk({ filter: { kind: 'blocked', workflow: 'bulky' }, action: 'cancel' }))).toEqual({ matched: 3, done: 3, skipped: 0, more: false });
    for (const runId of runIds) expect((await app.store.getRun(runId))?.status).toBe('canceled');
    expect((await blocked()).filter((i) => runIds.includes(i.runId))).toEqual([]);

    const audit = await json<{ items: { action: string; actor: unknown; details: Record<string, unknown> }[] }>(await app.request('GET', '/v1/audit?action=exceptions.bulk', { key }));
    expect(audit.items.map((r) => [r.details['action'], r.details['done']])).toEqual([['retry', 3], ['cancel', 0], ['cancel', 3]]);
    expect(audit.items[0]?.actor).toEqual({ keyId: expect.any(String), name: 'test' });
  }, 40_000);

  it('weft exceptions show|retry|cancel act on one item, or in bulk without an id', async () => {
    const { runId } = await json<{ runId: string }>(await app.request('POST', '/v1/runs/adhoc', { key, json: { spec: { ...lone, name: 'clied' } } }));
    await waitFor(async () => (await blocked()).some((i) => i.runId === runId), { timeoutMs: 10_000, what: 'the stuck run' });
    const flags = { api: app.url, apiKey: key };
    const shown = captureIo();
    expect(await exceptionsShow('blocked', runId, flags, shown, {})).toBe(0);
    expect(shown.lines.join('\n')).toMatch(new RegExp(`blocked ${runId} {2}\\(clied, run ${runId}, step only\\)`));
    const retried = captureIo();
    expect(await exceptionsAct('retry', 'blocked', runId, flags, retried, {})).toBe(0);
    expect(retried.lines).toEqual([`blocked ${runId}: run resumed`]);
    await waitFor(async () => (await blocked()).some((i) => i.runId === runId), { timeoutMs: 10_000, what: 'the resumed run to be stuck again' });
    const bulk = captureIo();
    expect(await exceptionsAct('cancel', undefined, undefined, { ...flags, kind: 'blocked', workflow: 'clied', json: true }, bulk, {})).toBe(0);
    expect(JSON.parse(bulk.lines.join('\n'))).toEqual({ matched: 1, done: 1, skipped: 0, more: false });
    expect((await app.store.getRun(runId))?.status).toBe('canceled');
  }, 40_000);
});
