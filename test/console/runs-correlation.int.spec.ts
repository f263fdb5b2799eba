import { type ApiApp, startApiApp } from '../support/api-app.harness';
import { describeDistributed } from '../distributed/support/infra.util';

// GET /v1/runs?correlationId=: the console's search box finds a run by the id a caller
// gave it (an order number, a ticket), across every page, within the key's namespace.

const flow = (name: string) => ({ apiVersion: 'weft/v1', kind: 'Workflow', name, steps: [{ id: 'a', action: 'noop' }] });

describeDistributed('runs listed by correlation id (NATS JetStream + PostgreSQL)', { nats: true, postgres: true }, () => {
  let app: ApiApp;
  let key: string;
  let other: string;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    app = await startApiApp();
    key = await app.key('default');
    other = await app.key('team-b');
    for (const [name, correlationId] of [
      ['alpha', 'order-1'],
      ['alpha', 'order-2'],
      ['beta', 'order-2'],
      ['alpha', 'order-3'],
    ] as const) {
      const res = await app.request('POST', '/v1/runs/adhoc?mode=sync', { key, json: { spec: flow(name), correlationId } });
      expect(res.status).toBe(200);
      ids[`${name}/${correlationId}`] = ((await res.json()) as { runId: string }).runId;
    }
    expect((await app.request('POST', '/v1/runs/adhoc?mode=sync', { key: other, json: { spec: flow('alpha'), correlationId: 'order-2' } })).status).toBe(200);
  }, 120_000);
  afterAll(async () => {
    await app?.close();
  });

  const list = async (query: string, as = key): Promise<{ items: { runId: string; correlationId: string | null }[]; nextCursor: string | null }> => {
    const res = await app.request('GET', `/v1/runs?${query}`, { key: as });
    expect(res.status).toBe(200);
    return (await res.json()) as { items: { runId: string; correlationId: string | null }[]; nextCursor: string | null };
  };

  it('answers only the runs with exactly that correlation id, newest first, in the caller namespace', async () => {
    expect((await list('correlationId=order-2')).items.map((r) => r.runId)).toEqual([ids['beta/order-2'], ids['alpha/order-2']]);
    expect((await list('correlationId=order-1')).items.map((r) => r.correlationId)).toEqual(['order-1']);
    expect((await list('correlationId=order')).items).toEqual([]);
    expect((await list('correlationId=order-2', other)).items).toHaveLength(1);
  });

  it('combines with the other filters and pages by cursor', async () => {
    expect((await list('correlationId=order-2&workflow=alpha')).items.map((r) => r.runId)).toEqual([ids['alpha/order-2']]);
    expect((await list('correlationId=order-2&status=failed')).items).toEqual([]);
    const first = await list('correlationId=order-2&limit=1');
    expect(first.items.map((r) => r.runId)).toEqual([ids['beta/order-2']]);
    const second = await list(`correlationId=order-2&limit=1&cursor=${encodeURIComponent(first.nextCursor ?? '')}`);
    expect(second).toEqual({ items: [expect.objectContaining({ runId: ids['alpha/order-2'] })], nextCursor: null });
  });

  it('refuses an empty or oversized correlation id as a malformed query', async () => {
    for (const bad of ['', 'x'.repeat(201)]) {
      const res = await app.request('GET', `/v1/runs?correlationId=${bad}`, { key });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { code: string }).code).toBe('INVALID_REQUEST');
    }
  });
});
