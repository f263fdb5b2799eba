import { type ApiApp, apiAppForSuite } from '../support/api-app.harness';
import { describeDistributed } from '../distributed/support/infra.util';
import { waitFor } from '../distributed/support/wait.util';

/**
 * Issue 13 item 7 through the real HTTP API on NATS JetStream + PostgreSQL: every change made
 * through the API appends exactly one audit record naming the caller's key, a change that fails
 * or changes nothing appends none, and another namespace's key sees none of them.
 */

interface Audit {
  id: string;
  at: string;
  namespace: string;
  actor: unknown;
  action: string;
  target: { kind: string; id: string };
  details: Record<string, unknown>;
}

async function json<T = Record<string, unknown>>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

const hello = (message = 'hi') => ({
  apiVersion: 'weft/v1',
  kind: 'Workflow',
  name: 'audited',
  steps: [{ id: 'greet', action: 'transform', with: { expr: `'${message}'` } }],
});
const sleeper = { apiVersion: 'weft/v1', kind: 'Workflow', name: 'sleeper', steps: [{ id: 'nap', action: 'sleep', with: { duration: '60s' } }] };
const failing = { apiVersion: 'weft/v1', kind: 'Workflow', name: 'failing', steps: [{ id: 'boom', action: 'transform', with: { expr: "int('not a number')" } }] };

describeDistributed('the audit log of API changes (NATS JetStream + PostgreSQL)', { nats: true, postgres: true }, () => {
  let app: ApiApp;
  let key: string;
  apiAppForSuite({}, (suite) => ({ app, key } = suite));

  async function records(apiKey = key): Promise<Audit[]> {
    const response = await app.request('GET', '/v1/audit?limit=200', { key: apiKey });
    expect(response.status).toBe(200);
    return (await json<{ items: Audit[] }>(response)).items;
  }

  /** Runs `change` and answers the audit records it appended (exactly those, in order). */
  async function appended(change: () => Promise<void>): Promise<Audit[]> {
    const before = (await records()).length;
    await change();
    return (await records()).slice(before);
  }

  async function settled(runId: string): Promise<void> {
    await waitFor(async () => ['completed', 'failed', 'canceled'].includes((await app.store.getRun(runId))?.status ?? ''), { timeoutMs: 15_000, what: `run ${runId} to end` });
  }

  const actor = { keyId: expect.any(String), name: 'test' };

  it('each workflow, version, key and run change appends exactly one record with the caller as actor', async () => {
    let workflowId = '';
    const one = async (action: string, target: { kind: string; id?: string }, change: () => Promise<void>): Promise<Audit> => {
      const added = await appended(change);
      expect(added).toEqual([expect.objectContaining({ action, actor, target: { kind: target.kind, id: target.id ?? expect.any(String) } })]);
      return added[0] as Audit;
    };

    const created = await one('workflow.created', { kind: 'workflow' }, async () => {
      const response = await app.request('POST', '/v1/workflows', { key, json: { spec: hello() } });
      expect(response.status).toBe(201);
      workflowId = (await json<{ id: string }>(response)).id;
    });
    expect(created.target.id).toBe(workflowId);
    await one('workflow.updated', { kind: 'workflow', id: workflowId }, async () => {
      expect((await app.request('PATCH', `/v1/workflows/${workflowId}`, { key, json: { description: 'greets' } })).status).toBe(200);
    });
    await one('draft.saved', { kind: 'workflow', id: workflowId }, async () => {
      expect((await app.request('PATCH', `/v1/workflows/${workflowId}/draft`, { key, json: { spec: hello('hey') } })).status).toBe(200);
    });
    await one('version.frozen', { kind: 'workflow', id: workflowId }, async () => {
      expect((await app.request('POST', `/v1/workflows/${workflowId}/versions`, { key })).status).toBe(201);
    });
    // Freezing the same draft again changes nothing: no record.
    expect(await appended(async () => void expect((await app.request('POST', `/v1/workflows/${workflowId}/versions`, { key })).status).toBe(200))).toEqual([]);
    await one('version.published', { kind: 'workflow', id: workflowId }, async () => {
      expect((await app.request('POST', `/v1/workflows/${workflowId}/versions/1/publish`, { key })).status).toBe(200);
    });

    let runId = '';
    await one('run.started', { kind: 'run' }, async () => {
      const response = await app.request('POST', `/v1/workflows/${workflowId}/runs?mode=sync`, { key, json: {}, headers: { 'Idempotency-Key': 'audit-1' } });
      expect(response.status).toBe(200);
      runId = (await json<{ runId: string }>(response)).runId;
    });
    // The same idempotency key answers the same run: no second record.
    expect(await appended(async () => void (await app.request('POST', `/v1/workflows/${workflowId}/runs`, { key, json: {}, headers: { 'Idempotency-Key': 'audit-1' } })))).toEqual([]);
    const rerun = await one('run.rerun', { kind: 'run' }, async () => {
      expect((await app.request('POST', `/v1/runs/${runId}/rerun?mode=sync`, { key, json: {} })).status).toBe(200);
    });
    expect(rerun.details).toMatchObject({ of: runId });
    // The run keeps its source and actor (GET /v1/runs/{id}).
    const started = await json<{ source: string; actor: unknown }>(await app.request('GET', `/v1/runs/${runId}`, { key }));
    expect(started).toMatchObject({ source: 'api', actor });
    const again = await json<{ source: string; actor: unknown }>(await app.request('GET', `/v1/runs/${rerun.target.id}`, { key }));
    expect(again).toMatchObject({ source: `rerun:${runId}`, actor });

    // A failing change (a version that is not there) appends nothing.
    expect(await appended(async () => void expect((await app.request('POST', `/v1/workflows/${workflowId}/versions/9/archive`, { key })).status).toBe(404))).toEqual([]);
    await one('draft.saved', { kind: 'workflow', id: workflowId }, async () => {
      expect((await app.request('PATCH', `/v1/workflows/${workflowId}/draft`, { key, json: { spec: hello('v2') } })).status).toBe(200);
    });
    await one('version.frozen', { kind: 'workflow', id: workflowId }, async () => {
      expect((await app.request('POST', `/v1/workflows/${workflowId}/versions`, { key })).status).toBe(201);
    });
    await one('version.archived', { kind: 'workflow', id: workflowId }, async () => {
      expect((await app.request('POST', `/v1/workflows/${workflowId}/versions/2/archive`, { key })).status).toBe(200);
    });

    let sleeping = '';
    await one('run.started', { kind: 'run' }, async () => {
      sleeping = (await json<{ runId: string }>(await app.request('POST', '/v1/runs/adhoc', { key, json: { spec: sleeper } }))).runId;
    });
    await waitFor(async () => (await app.store.getRun(sleeping))?.steps.nap?.status === 'waiting', { timeoutMs: 10_000, what: 'the nap to start' });
    const canceled = await one('run.canceled', { kind: 'run', id: sleeping }, async () => {
      expect((await app.request('POST', `/v1/runs/${sleeping}/cancel`, { key, json: { reason: 'enough' } })).status).toBe(200);
    });
    expect(canceled.details).toEqual({ reason: 'enough' });
    // Canceling again is harmless and records nothing.
    expect(await appended(async () => void expect((await app.request('POST', `/v1/runs/${sleeping}/cancel`, { key })).status).toBe(200))).toEqual([]);

    let failed = '';
    await one('run.started', { kind: 'run' }, async () => {
      const response = await app.request('POST', '/v1/runs/adhoc?mode=sync', { key, json: { spec: failing } });
      const body = await json<{ runId: string; status: string }>(response);
      expect(body.status).toBe('failed');
      failed = body.runId;
    });
    await settled(failed);
    await one('run.retried', { kind: 'run', id: failed }, async () => {
      expect((await app.request('POST', `/v1/runs/${failed}/retry`, { key })).status).toBe(200);
    });
    await settled(failed);

    let newKey = '';
    await one('key.created', { kind: 'key' }, async () => {
      const response = await app.request('POST', '/v1/keys', { key, json: { name: 'ci' } });
      expect(response.status).toBe(201);
      newKey = (await json<{ keyId: string }>(response)).keyId;
    });
    await one('key.revoked', { kind: 'key', id: newKey }, async () => {
      expect((await app.request('DELETE', `/v1/keys/${newKey}`, { key })).status).toBe(200);
    });
    await one('workflow.deleted', { kind: 'workflow', id: workflowId }, async () => {
      expect((await app.request('DELETE', `/v1/workflows/${workflowId}`, { key })).status).toBe(204);
    });

    // Namespace-scoped: another namespace's key sees none of these; the filters answer them.
    const stranger = await app.key('team-audit-other');
    expect(await records(stranger)).toEqual([]);
    const ofRun = await json<{ items: Audit[] }>(await app.request('GET', `/v1/audit?target=${encodeURIComponent(`run:${sleeping}`)}`, { key }));
    expect(ofRun.items.map((r) => r.action)).toEqual(['run.started', 'run.canceled']);
    expect([404, 405]).toContain((await app.request('DELETE', '/v1/audit', { key })).status);
  }, 60_000);
});
