import { signWebhook } from '@weft/triggers';
import { POSTGRES_TEST_URL, describeWhenReachable, postgresReachable, serverReachable } from '@weft/db/testing';
import { type ApiApp, NATS_TEST_URL, startApiApp } from '../support/api-app.harness';
import { publish, startTriggers, type TriggersProcess, waitFor } from './triggers.harness';

const SECRET = 'gh-test-secret';
const env = { ...process.env, TEST_GITHUB_SECRET: SECRET, TEST_HMAC_SECRET: 'hmac-secret' };

describeWhenReachable(
  'triggers service on NATS and PostgreSQL',
  [
    { what: `NATS at ${NATS_TEST_URL}`, up: serverReachable(NATS_TEST_URL, 4222) },
    { what: `PostgreSQL at ${POSTGRES_TEST_URL}`, up: postgresReachable() },
  ],
  () => {
    let api: ApiApp;
    let key: string;
    const started: TriggersProcess[] = [];
    const start = async (options: Parameters<typeof startTriggers>[1] = {}): Promise<TriggersProcess> => {
      const p = await startTriggers(api, { env, ...options });
      started.push(p);
      return p;
    };
    const runs = (workflow: string) => api.query<{ id: string; idempotency_key: string; inputs: Record<string, unknown> }>(`SELECT id, idempotency_key, inputs FROM runs WHERE workflow = $1 ORDER BY created_at`, [workflow]);
    const fires = (workflow: string, trigger: string) =>
      api.query<{ occurrence: string; outcome: string; run_id: string | null; claims: boolean }>(
        `SELECT occurrence, outcome, run_id, claims FROM trigger_fires WHERE workflow = $1 AND trigger_id = $2 ORDER BY id`,
        [workflow, trigger],
      );
    const definitionActive = (workflow: string, trigger: string) => async () =>
      (await api.query(`SELECT 1 FROM trigger_definitions WHERE workflow = $1 AND trigger_id = $2 AND active`, [workflow, trigger])).length > 0;

    beforeAll(async () => {
      api = await startApiApp();
      key = await api.key();
    }, 60_000);

    afterEach(async () => {
      for (const p of started.splice(0)) await p.stop().catch(() => undefined);
    });

    afterAll(async () => {
      await api?.close();
    });

    it('a signed GitHub delivery starts one run with mapped inputs; a replay, a wrong signature and a stale timestamp start nothing', async () => {
      await publish(
        api,
        key,
        `apiVersion: weft/v1
kind: Workflow
name: gh-push
inputs:
  ref: { type: string }
steps:
  - id: a
    action: noop
triggers:
  - id: github
    webhook: { preset: github, secret: { env: TEST_GITHUB_SECRET } }
    filter: "\${{ event.headers['x-github-event'] == 'push' }}"
    inputs: { ref: "\${{ event.body.ref }}" }
  - id: signed
    webhook: { preset: hmac-sha256, secret: { env: TEST_HMAC_SECRET }, timestampHeader: webhook-timestamp, tolerance: 1m }
`,
      );
      const triggers = await start();
      await waitFor(definitionActive('gh-push', 'github'), 'the webhook trigger');
      const body = Buffer.from(JSON.stringify({ ref: 'refs/heads/main' }));
      const hook = (path: string, headers: Record<string, string>, b = body) => fetch(`${triggers.url}/v1/hooks/default/gh-push/${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: b });
      const signed = { ...signWebhook('github', SECRET, body, { id: 'delivery-1' }), 'x-github-event': 'push' };

      const first = await hook('github', signed);
      expect(first.status).toBe(200);
      const answer = (await first.json()) as { outcome: string; runId: string };
      expect(answer.outcome).toBe('fired');
      const [run] = await waitFor(async () => ((await runs('gh-push')).length === 1 ? runs('gh-push') : undefined), 'the run');
      expect(run).toMatchObject({ id: answer.runId, idempotency_key: 'trigger:gh-push:github:delivery-1', inputs: { ref: 'refs/heads/main' } });

      const replay = await hook('github', signed);
      expect(replay.status).toBe(200);
      expect(await replay.json()).toMatchObject({ outcome: 'duplicate' });

      const forged = await hook('github', { ...signWebhook('github', 'wrong', body, { id: 'delivery-2' }), 'x-github-event': 'push' });
      expect(forged.status).toBe(401);
      expect(forged.headers.get('content-type')).toContain('application/problem+json');
      expect(await forged.json()).toMatchObject({ status: 401, code: 'WEBHOOK_REFUSED', reason: 'bad-signature' });

      const stale = await hook('signed', signWebhook('hmac-sha256', 'hmac-secret', body, { id: 'm-1', timestampSec: Math.floor(Date.now() / 1000) - 600 }));
      expect(stale.status).toBe(401);
      expect(await stale.json()).toMatchObject({ reason: 'stale-timestamp' });
      const fresh = await hook('signed', signWebhook('hmac-sha256', 'hmac-secret', body, { id: 'm-2', timestampSec: Math.floor(Date.now() / 1000) }));
      expect(await fresh.json()).toMatchObject({ outcome: 'fired' });

      const filtered = await hook('github', { ...signWebhook('github', SECRET, body, { id: 'delivery-3' }), 'x-github-event': 'issues' });
      expect(await filtered.json()).toMatchObject({ outcome: 'filtered' });

      await waitFor(async () => (await runs('gh-push')).length === 2, 'the hmac run');
      expect((await fires('gh-push', 'github')).map((f) => f.outcome)).toEqual(['fired', 'duplicate', 'refused', 'filtered']);
    }, 60_000);

    it('POST .../test answers what a trigger would do and starts nothing', async () => {
      await publish(
        api,
        key,
        `apiVersion: weft/v1
kind: Workflow
name: test-mode
steps:
  - id: a
    action: noop
triggers:
  - id: orders
    subject: shop.test-mode.created
    filter: "\${{ event.data.total > 100 }}"
    dedupe: "\${{ event.data.id }}"
    inputs: { orderId: "\${{ event.data.id }}" }
  - id: nightly
    cron: "30 2 * * *"
    timezone: Europe/Berlin
`,
      );
      const triggers = await start();
      await waitFor(definitionActive('test-mode', 'nightly'), 'the definitions');
      const call = (path: string, json: unknown) =>
        fetch(`${triggers.url}/v1/triggers/test-mode/${path}/test`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(json) });
      const big = await call('orders', { event: { data: { id: 'o-1', total: 150 } } });
      expect(big.status).toBe(200);
      expect(await big.json()).toMatchObject({ passed: true, dedupeKey: 'o-1', inputs: { orderId: 'o-1' } });
      expect(await (await call('orders', { event: { data: { id: 'o-2', total: 5 } } })).json()).toMatchObject({ passed: false });
      const cron = (await (await call('nightly', { at: '2026-03-28T12:00:00Z' })).json()) as { nextFires: string[] };
      expect(cron.nextFires.slice(0, 2)).toEqual(['2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z']);
      expect(await runs('test-mode')).toEqual([]);
      expect(await fires('test-mode', 'orders')).toEqual([]);
      const unauthenticated = await fetch(`${triggers.url}/v1/triggers`);
      expect(unauthenticated.status).toBe(401);
    }, 60_000);

    it('@every 1s on two instances starts exactly one run per tick; killing the leader doubles none and catch-up fills the gap', async () => {
      await publish(
        api,
        key,
        `apiVersion: weft/v1
kind: Workflow
name: every-second
steps:
  - id: a
    action: noop
triggers:
  - id: tick
    cron: "@every 1s"
    overlap: allow
    catchup: 1m
`,
      );
      const a = await start();
      const b = await start();
      await waitFor(definitionActive('every-second', 'tick'), 'the cron definition');
      const firstFire = await waitFor(async () => (await fires('every-second', 'tick'))[0], 'the first fire');
      const startedAt = Date.parse(firstFire.occurrence);
      await waitFor(async () => Date.now() > startedAt + 10_000 || undefined, '10 s of ticks', 20_000);
      const leader = a.parts.leader.isLeader ? a : b;
      await leader.kill();
      const killedAt = Date.now();
      await waitFor(async () => Date.now() > killedAt + 10_000 || undefined, '10 s more, across the lease expiry', 20_000);
      const last = Math.floor(Date.now() / 1000) * 1000 - 2000;
      await waitFor(
        async () => (await fires('every-second', 'tick')).some((f) => Date.parse(f.occurrence) >= last) || undefined,
        'the survivor to fire recent ticks',
      );
      const rows = (await fires('every-second', 'tick')).filter((f) => f.claims);
      const ticks = rows.map((f) => Date.parse(f.occurrence)).filter((t) => t <= last);
      // Every second from the first tick to `last` has exactly one claiming row, and it fired.
      const expected = Array.from({ length: (last - startedAt) / 1000 + 1 }, (_, i) => startedAt + i * 1000);
      expect(ticks).toEqual(expected);
      expect(rows.filter((f) => Date.parse(f.occurrence) <= last).every((f) => f.outcome === 'fired')).toBe(true);
      await waitFor(async () => ((await runs('every-second')).length >= expected.length) || undefined, 'their runs');
      const started = await runs('every-second');
      expect(new Set(started.map((r) => r.idempotency_key)).size).toBe(started.length);
    }, 90_000);
  },
);
