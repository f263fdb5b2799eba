import { WeftClient } from '../../libs/sdk/src/client';
import { type ApiApp, startApiApp } from '../support/api-app.harness';
import { describeDistributed } from '../distributed/support/infra.util';

// GET /v1/runs?correlationId= and ?prefix=: the console's search box finds a run by the id a
// caller gave it (an order number, a ticket) or by the start of its run id, across every page,
// within the key's namespace. And GET /v1/runs/{id} links a run to its re-runs both ways.

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

  it('finds runs whose run id or correlation id starts with ?prefix=, newest first, in the caller namespace', async () => {
    expect((await list('prefix=order-')).items.map((r) => r.runId)).toEqual([ids['alpha/order-3'], ids['beta/order-2'], ids['alpha/order-2'], ids['alpha/order-1']]);
    expect((await list('prefix=order-2')).items.map((r) => r.runId)).toEqual([ids['beta/order-2'], ids['alpha/order-2']]);
    expect((await list('prefix=order-2&workflow=beta')).items.map((r) => r.runId)).toEqual([ids['beta/order-2']]);
    expect((await list('prefix=order-2', other)).items).toHaveLength(1);
    // Wildcards are literal, matching is case-sensitive.
    expect((await list('prefix=order_')).items).toEqual([]);
    expect((await list('prefix=%25')).items).toEqual([]);
    expect((await list('prefix=ORDER')).items).toEqual([]);
    // The start of a run id: the first 8 characters the console shows.
    const runId = ids['beta/order-2'] ?? '';
    expect((await list(`prefix=${runId.slice(0, 8)}`)).items.map((r) => r.runId)).toContain(runId);
    expect((await list(`prefix=${runId.slice(0, 8)}`, other)).items.map((r) => r.runId)).not.toContain(runId);
    const first = await list('prefix=order-&limit=3');
    expect(first.items).toHaveLength(3);
    const rest = await list(`prefix=order-&limit=3&cursor=${encodeURIComponent(first.nextCursor ?? '')}`);
    expect(rest).toEqual({ items: [expect.objectContaining({ runId: ids['alpha/order-1'] })], nextCursor: null });

  });

  it('is what the SDK sends for client.runs.list({ prefix, correlationId })', async () => {
    const sdk = new WeftClient({ url: app.url, apiKey: key });
    expect((await sdk.runs.list({ correlationId: 'order-2' })).items.map((r) => r.runId)).toEqual([ids['beta/order-2'], ids['alpha/order-2']]);
    expect((await sdk.runs.list({ prefix: 'order-2', workflow: 'beta' })).items.map((r) => r.runId)).toEqual([ids['beta/order-2']]);
    const first = await sdk.runs.list({ prefix: 'order-', limit: 3 });
    expect(first.items).toHaveLength(3);
    expect((await sdk.runs.list({ prefix: 'order-', limit: 3, cursor: first.nextCursor ?? '' })).items.map((r) => r.runId)).toEqual([ids['alpha/order-1']]);
    expect((await new WeftClient({ url: app.url, apiKey: other }).runs.list({ correlationId: 'order-2' })).items).toHaveLength(1);
    await expect(sdk.runs.list({ prefix: 'x'.repeat(201) })).rejects.toMatchObject({ status: 400, code: 'INVALID_REQUEST' });
  });

  it('refuses an empty or oversized prefix as a malformed query', async () => {
    for (const bad of ['', 'x'.repeat(201)]) {
      const res = await app.request('GET', `/v1/runs?prefix=${bad}`, { key });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { code: string }).code).toBe('INVALID_REQUEST');
    }
  });

  it('links a run to the runs re-run from it (reruns) and back (rerunOf), oldest first, not across namespaces', async () => {
    const source = ids['alpha/order-1'] ?? '';
    const rerun = async (from?: string): Promise<string> => {
      const res = await app.request('POST', `/v1/runs/${source}/rerun?mode=sync${from ? `&from=${from}` : ''}`, { key, json: {} });
      expect(res.status).toBe(200);
      return ((await res.json()) as { runId: string }).runId;
    };
    const one = await rerun('a');
    const two = await rerun();
    const get = async (runId: string, as = key): Promise<{ status: number; body: { rerunOf: unknown; reruns: unknown[] } }> => {
      const res = await app.request('GET', `/v1/runs/${runId}`, { key: as });
      return { status: res.status, body: (await res.json()) as { rerunOf: unknown; reruns: unknown[] } };
    };
    const origin = await get(source);
    expect(origin.body.rerunOf).toBeNull();
    expect(origin.body.reruns).toEqual([
      { runId: one, fromStep: 'a', createdAt: expect.any(String) },
      { runId: two, fromStep: null, createdAt: expect.any(String) },
    ]);
    expect((await get(one)).body).toMatchObject({ rerunOf: { runId: source, fromStep: 'a' }, reruns: [] });
    expect((await get(source, other)).status).toBe(404);
  });

  it('answers a prefix from the prefix indexes, not by walking the namespace (20,000 runs)', async () => {
    // Copies of one run, each with its own id and correlation id, in the same namespace.
    const columns = ((await app.query('select column_name from information_schema.columns where table_schema = $1 and table_name = $2', [app.schema, 'runs'])) as { column_name: string }[]).map((r) => r.column_name);
    const shifted: Record<string, string> = { id: "md5(g::text || 'prefix-seed')::uuid::text", idempotency_key: 'null', correlation_id: "'seed-' || g", created_at: "t.created_at - g * interval '1 second'" };
    const select = columns.map((c) => shifted[c] ?? `t."${c}"`).join(', ');
    await app.query(`insert into "${app.schema}".runs (${columns.map((c) => `"${c}"`).join(', ')}) select ${select} from "${app.schema}".runs t, generate_series(1, 20000) g where t.id = $1`, [ids['alpha/order-1']]);
    await app.query(`analyze "${app.schema}".runs`);

    const explain = async (where: string, value: string): Promise<string> => {
      const rows = (await app.query(`EXPLAIN SELECT id FROM "${app.schema}".runs WHERE namespace = $1 AND ${where} ORDER BY created_at DESC, id DESC LIMIT 51`, ['default', value])) as { 'QUERY PLAN': string }[];
      return rows.map((r) => r['QUERY PLAN']).join('\n');
    };
    const plan = await explain('(id LIKE $2 OR correlation_id LIKE $2)', 'seed-1999%');
    expect(plan).toContain('ix_runs_namespace_id_prefix');
    expect(plan).toContain('ix_runs_namespace_correlation_prefix');
    // The exact correlationId filter uses the same index (text_pattern_ops has equality too).
    expect(await explain('correlation_id = $2', 'seed-1999')).toContain('ix_runs_namespace_correlation_prefix');
    expect((await list('prefix=seed-1999')).items.map((r) => r.correlationId).sort()).toEqual(['seed-1999', ...Array.from({ length: 10 }, (_, i) => `seed-1999${i}`)].sort());
  });
});
