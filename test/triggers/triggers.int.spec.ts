import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { main } from '@weft/cli';
import { loadConfig } from '@weft/config';
import { installInMemoryTracing } from '@weft/telemetry';
import { runTriggers, signWebhook } from '@weft/triggers';
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

    const tracing = installInMemoryTracing();

    beforeAll(async () => {
      api = await startApiApp();
      key = await api.key();
      // Booting the scheduler, a worker and streams on a loaded 2-core machine can take a while.
    }, 180_000);

    afterEach(async () => {
      for (const p of started.splice(0)) await p.stop().catch(() => undefined);
      // Each test's workflows stop here: unpublished, their triggers inactive (the next sync would agree).
      await api.query('UPDATE workflows SET published_version = NULL');
      await api.query('UPDATE trigger_definitions SET active = false');
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
      // The fire's span is the parent of the run's trace: the scheduler's handling of the request is in it.
      const fire = tracing.spans().find((sp) => sp.name === 'trigger fire gh-push' && sp.attributes['weft.run_id'] === answer.runId);
      expect(fire).toBeDefined();
      await waitFor(async () => tracing.spans().some((sp) => sp.spanContext().traceId === fire?.spanContext().traceId && sp.name.startsWith('process ') && sp.name.includes('weft.run.requested')) || undefined, 'the scheduler\'s span in the fire\'s trace');

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

    it('after 5 s of downtime, catchup: 1m fires the missed ticks once each and catchup: 0 records them as missed', async () => {
      await publish(
        api,
        key,
        `apiVersion: weft/v1
kind: Workflow
name: catch-up
steps:
  - id: a
    action: noop
triggers:
  - id: within
    cron: "@every 1s"
    overlap: allow
    catchup: 1m
  - id: none
    cron: "@every 1s"
    overlap: allow
    catchup: 0s
`,
      );
      const first = await start();
      await waitFor(async () => (await fires('catch-up', 'none')).length >= 2 && (await fires('catch-up', 'within')).length >= 2, 'both triggers firing');
      await first.stop();
      started.splice(started.indexOf(first), 1);
      const lastBefore = async (t: string) => Math.max(...(await fires('catch-up', t)).map((f) => Date.parse(f.occurrence)));
      const stoppedWithin = await lastBefore('within');
      const stoppedNone = await lastBefore('none');
      await waitFor(async () => Date.now() > Math.max(stoppedWithin, stoppedNone) + 5_500 || undefined, '5 s of downtime', 10_000);
      const restartedAt = Date.now();
      await start();
      await waitFor(async () => (await fires('catch-up', 'within')).some((f) => Date.parse(f.occurrence) > restartedAt) || undefined, 'ticks after the restart');
      await waitFor(async () => (await fires('catch-up', 'none')).some((f) => Date.parse(f.occurrence) > restartedAt) || undefined, 'ticks after the restart');
      const downtime = (rows: { occurrence: string; outcome: string }[], from: number) => rows.filter((f) => Date.parse(f.occurrence) > from && Date.parse(f.occurrence) <= restartedAt);
      const within = downtime(await fires('catch-up', 'within'), stoppedWithin);
      expect(within.length).toBeGreaterThanOrEqual(5);
      expect(within.every((f) => f.outcome === 'fired')).toBe(true);
      const none = downtime(await fires('catch-up', 'none'), stoppedNone);
      expect(none.length).toBeGreaterThanOrEqual(5);
      expect(none.every((f) => f.outcome === 'missed')).toBe(true);
      // Every tick has one claiming row: none fired twice, none lost.
      for (const t of ['within', 'none']) {
        const occ = (await fires('catch-up', t)).filter((f) => f.claims).map((f) => Date.parse(f.occurrence));
        expect(occ).toEqual(Array.from({ length: occ.length }, (_, i) => occ[0] + i * 1000));
      }
    }, 60_000);

    it('100 messages published on a subject while the service is down start 100 runs after it is back; a dedupe key starts one', async () => {
      const subject = `shop.${api.prefix}.orders.created`;
      await publish(
        api,
        key,
        `apiVersion: weft/v1
kind: Workflow
name: orders
inputs:
  orderId: { type: string }
steps:
  - id: a
    action: noop
triggers:
  - id: created
    subject: ${subject}
    filter: "\${{ event.data.total > 100 }}"
    dedupe: "\${{ event.data.id }}"
    inputs: { orderId: "\${{ event.data.id }}" }
`,
      );
      const first = await start();
      await waitFor(async () => (await first.parts.consumers.health()).detail === '1 consumer(s)' || undefined, 'the durable consumer');
      await first.stop();
      started.splice(started.indexOf(first), 1);
      const nc = await (await import('@nats-io/transport-node')).connect({ servers: NATS_TEST_URL });
      const js = (await import('@nats-io/jetstream')).jetstream(nc);
      for (let i = 0; i < 100; i++) await js.publish(subject, JSON.stringify({ id: `o-${i}`, total: 150 }));
      await js.publish(subject, JSON.stringify({ id: 'o-7', total: 150 })); // same dedupe key as an earlier one
      await js.publish(subject, JSON.stringify({ id: 'small', total: 5 })); // filtered
      await nc.close();
      await start();
      await waitFor(async () => (await runs('orders')).length >= 100 || undefined, '100 runs', 60_000);
      await waitFor(async () => (await fires('orders', 'created')).length >= 102 || undefined, 'every message in the fire log', 30_000);
      const outcomes = (await fires('orders', 'created')).map((f) => f.outcome);
      expect(outcomes.filter((o) => o === 'fired')).toHaveLength(100);
      expect(outcomes.filter((o) => o === 'duplicate')).toHaveLength(1);
      expect(outcomes.filter((o) => o === 'filtered')).toHaveLength(1);
      const started100 = await runs('orders');
      expect(started100).toHaveLength(100);
      expect(new Set(started100.map((r) => r.inputs['orderId'])).size).toBe(100);
    }, 120_000);

    it("a subject trigger on Weft's own run.completed starts one run per upstream run, though the event travels in a transition's batch", async () => {
      await publish(
        api,
        key,
        `apiVersion: weft/v1
kind: Workflow
name: after-upstream
inputs:
  from: { type: string }
steps:
  - id: a
    action: noop
triggers:
  - id: done
    subject: ${api.prefix}.weft.event.run.completed
    filter: "\${{ event.data.workflow == 'upstream' }}"
    inputs: { from: "\${{ event.data.runId }}" }
`,
      );
      const triggers = await start();
      await waitFor(async () => (await triggers.parts.consumers.health()).detail === '1 consumer(s)' || undefined, 'the durable consumer');
      const spec = { apiVersion: 'weft/v1', kind: 'Workflow', name: 'upstream', steps: [{ id: 'a', action: 'noop' }, { id: 'b', needs: ['a'], action: 'noop' }] };
      const upstream = (await (await api.request('POST', '/v1/runs/adhoc', { key, json: { spec } })).json()) as { runId: string };
      await waitFor(async () => (await runs('after-upstream')).length === 1 || undefined, 'the downstream run', 30_000);
      expect((await runs('after-upstream')).map((r) => r.inputs['from'])).toEqual([upstream.runId]);
      const fired = (await fires('after-upstream', 'done')).filter((f) => f.outcome === 'fired');
      // The upstream run's last transition (b's step.started, step.completed, run.completed) is one message: <stream>:<seq>:<index>.
      expect(fired.map((f) => f.occurrence)).toEqual([expect.stringMatching(/_WEFT_EVENTS:\d+:2$/)]);
    }, 60_000);

    it('polling a paged API: each new item starts exactly one run across restarts; a 503 with Retry-After is honoured', async () => {
      const items: { id: number; title: string }[] = [
        { id: 1, title: 'one' },
        { id: 2, title: 'two' },
      ];
      const requests: { at: number; since: string; auth: string | undefined; status: number }[] = [];
      let unavailable = 0;
      const server = createServer((req, res) => {
        const since = new URL(req.url ?? '/', 'http://x').searchParams.get('since') ?? '';
        if (unavailable > 0) {
          unavailable--;
          requests.push({ at: Date.now(), since, auth: req.headers.authorization, status: 503 });
          res.writeHead(503, { 'retry-after': '3' }).end();
          return;
        }
        requests.push({ at: Date.now(), since, auth: req.headers.authorization, status: 200 });
        // Inclusive of the cursor's own item: pages overlap, as many APIs do.
        const from = since === '' ? 0 : Number(since);
        const page = items.filter((i) => i.id >= from);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ items: page, next: String(items.at(-1)?.id ?? from) }));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as AddressInfo).port;
      try {
        await publish(
          api,
          key,
          `apiVersion: weft/v1
kind: Workflow
name: tickets
inputs:
  ticket: { type: object }
steps:
  - id: a
    action: noop
triggers:
  - id: new-tickets
    poll:
      url: "http://127.0.0.1:${port}/tickets?since=\${{ cursor }}"
      every: 1s
      headers: { Authorization: { env: TEST_TICKETS_TOKEN } }
      items: "\${{ response.body.items }}"
      key: "\${{ item.id }}"
      cursor: "\${{ response.body.next }}"
    inputs: { ticket: "\${{ item }}" }
`,
        );
        const pollEnv = { ...env, TEST_TICKETS_TOKEN: 'Bearer t0ken' };
        const first = await start({ env: pollEnv });
        await waitFor(async () => (await runs('tickets')).length === 2 || undefined, 'runs of the first two items');
        await waitFor(async () => requests.filter((r) => r.since === '2').length >= 2 || undefined, 'two more polls from cursor 2 (overlapping pages)');
        await first.stop();
        started.splice(started.indexOf(first), 1);
        items.push({ id: 3, title: 'three' });
        unavailable = 1;
        await start({ env: pollEnv });
        await waitFor(async () => (await runs('tickets')).length === 3 || undefined, 'the run of the third item', 30_000);
        const failed = requests.find((r) => r.status === 503);
        const after = requests.find((r) => failed !== undefined && r.at > failed.at);
        expect(failed).toBeDefined();
        expect(after).toBeDefined();
        expect((after?.at ?? 0) - (failed?.at ?? 0)).toBeGreaterThanOrEqual(2_900);
        expect(requests.every((r) => r.auth === 'Bearer t0ken')).toBe(true);
        await waitFor(async () => requests.filter((r) => r.since === '3').length >= 2 || undefined, 'polls past the third item');
        const started3 = await runs('tickets');
        expect(started3.map((r) => r.idempotency_key).sort()).toEqual(['trigger:tickets:new-tickets:1', 'trigger:tickets:new-tickets:2', 'trigger:tickets:new-tickets:3']);
        expect(started3[2].inputs).toEqual({ ticket: { id: 3, title: 'three' } });
        expect((await fires('tickets', 'new-tickets')).map((f) => f.outcome)).toEqual(['fired', 'fired', 'fired']);
      } finally {
        server.close();
      }
    }, 90_000);

    it('weft triggers list|fire|pause|resume|backfill|fires|test drive a trigger through the API', async () => {
      await publish(
        api,
        key,
        `apiVersion: weft/v1
kind: Workflow
name: daily-report
inputs:
  env: { type: string, default: prod }
steps:
  - id: a
    action: noop
triggers:
  - id: daily
    cron: "0 6 * * *"
    timezone: Europe/Berlin
    overlap: allow
    inputs: { env: prod }
`,
      );
      const triggers = await start();
      await waitFor(definitionActive('daily-report', 'daily'), 'the definition');
      const cli = async (...args: string[]): Promise<{ code: number; out: string; err: string }> => {
        const out: string[] = [];
        const err: string[] = [];
        const code = await main(['node', 'weft', 'triggers', ...args, '--api', triggers.url, '--api-key', key], { out: (l) => out.push(l), err: (l) => err.push(l), isTTY: false, write: () => undefined });
        return { code, out: out.join('\n'), err: err.join('\n') };
      };
      const listed = await cli('list', '--json');
      expect(listed.code).toBe(0);
      expect(JSON.parse(listed.out)).toEqual([expect.objectContaining({ workflow: 'daily-report', trigger: 'daily', kind: 'cron', state: 'active', nextFireAt: expect.any(String) })]);

      const fired = await cli('fire', 'daily-report', 'daily', '--input', 'env=staging', '--key', 'once', '--json');
      expect(fired.code).toBe(0);
      expect(JSON.parse(fired.out)).toMatchObject({ outcome: 'fired', idempotencyKey: 'trigger:daily-report:daily:manual:once' });
      expect(JSON.parse((await cli('fire', 'daily-report', 'daily', '--key', 'once', '--json')).out)).toMatchObject({ outcome: 'duplicate' });
      await waitFor(async () => (await runs('daily-report')).length === 1 || undefined, 'the manual run');
      expect((await runs('daily-report'))[0].inputs).toEqual({ env: 'staging' });

      expect((await cli('pause', 'daily-report', 'daily')).out).toBe('daily-report/daily: paused');
      expect(JSON.parse((await cli('list', '--json')).out)[0]).toMatchObject({ state: 'paused' });
      expect((await cli('resume', 'daily-report', 'daily')).out).toBe('daily-report/daily: active');

      const backfill = await cli('backfill', 'daily-report', 'daily', '--from', '2026-03-28T00:00:00Z', '--to', '2026-03-30T23:59:59Z', '--json');
      expect(backfill.code).toBe(0);
      // 06:00 local on each day, across the spring-forward night.
      expect((JSON.parse(backfill.out) as { results: { idempotencyKey: string }[] }).results.map((r) => r.idempotencyKey)).toEqual([
        'trigger:daily-report:daily:2026-03-28T05:00:00.000Z',
        'trigger:daily-report:daily:2026-03-29T04:00:00.000Z',
        'trigger:daily-report:daily:2026-03-30T04:00:00.000Z',
      ]);
      await waitFor(async () => (await runs('daily-report')).length === 4 || undefined, 'the backfilled runs');

      const log = await cli('fires', 'daily-report', 'daily', '--json');
      expect((JSON.parse(log.out) as { fires: { outcome: string }[] }).fires.map((f) => f.outcome)).toEqual(['fired', 'fired', 'fired', 'duplicate', 'fired']);
      const tested = await cli('test', 'daily-report', 'daily', '--at', '2026-10-24T12:00:00Z');
      expect(tested.code).toBe(0);
      expect((JSON.parse(tested.out) as { nextFires: string[] }).nextFires.slice(0, 2)).toEqual(['2026-10-25T05:00:00.000Z', '2026-10-26T05:00:00.000Z']);
      expect(await runs('daily-report')).toHaveLength(4);
      // Every change is in the deployment's audit log, with the key that made it.
      const audit = await api.query<{ action: string; actor: { keyId?: string }; target_id: string }>(
        `SELECT action, actor, target_id FROM audit WHERE target_kind = 'trigger' AND target_id = 'daily-report/daily' ORDER BY id`,
      );
      expect(audit.map((a) => a.action)).toEqual(['trigger.fired', 'trigger.paused', 'trigger.resumed', 'trigger.backfilled']);
      expect(audit.every((a) => typeof a.actor.keyId === 'string')).toBe(true);
      const missing = await cli('fires', 'daily-report', 'nope');
      expect(missing.code).toBe(2);
      expect(missing.err).toContain('TRIGGER_NOT_FOUND');
    }, 60_000);

    it('runTriggers as the process runs it: readiness with leadership and consumers, /metrics, raw-body webhooks; a bad trigger is 422 at freeze', async () => {
      const bad = await api.request('POST', '/v1/workflows', {
        key,
        json: { source: `apiVersion: weft/v1\nkind: Workflow\nname: bad-trigger\nsteps:\n  - id: a\n    action: noop\ntriggers:\n  - id: t\n    cron: "61 * * * *"\n  - id: u\n    subject: a.b\n    filter: "\${{ event.data.x > }}"\n` },
      });
      const body = bad.status === 201 ? await api.request('POST', '/v1/workflows/bad-trigger/versions', { key }) : bad;
      expect(body.status).toBe(422);
      const problem = (await body.json()) as { errors: { path: string; code: string }[] };
      expect(problem.errors.map((e) => `${e.code} ${e.path}`)).toEqual(expect.arrayContaining(['INVALID_SCHEDULE triggers[0].cron', 'CEL_SYNTAX triggers[1].filter']));

      await publish(
        api,
        key,
        `apiVersion: weft/v1
kind: Workflow
name: app-hook
steps:
  - id: a
    action: noop
triggers:
  - id: hook
    webhook: { preset: github, secret: { env: TEST_GITHUB_SECRET } }
  - id: sub
    subject: app.${api.prefix}.x
  - id: hourly
    cron: "@every 1h"
`,
      );
      const config = loadConfig({ ...env, NATS_URL: NATS_TEST_URL, DATABASE_URL: POSTGRES_TEST_URL, WEFT_DB_SCHEMA: api.schema, WEFT_NATS_PREFIX: api.prefix, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent' });
      const service = await runTriggers(
        { config, tracing: { enabled: false, shutdown: async () => undefined } },
        { handleSignals: false, env, subjectStream: `${api.prefix.toUpperCase()}_APP_SUBJECTS`, leader: { syncEveryMs: 200, tickEveryMs: 100 } },
      );
      try {
        const ready = await waitFor(async () => {
          const r = await fetch(`${service.url}/health/ready`);
          const text = await r.text();
          return r.status === 200 && text.includes('1 consumer(s)') ? text : undefined;
        }, 'readiness with the subject consumer');
        expect(ready).toContain('triggers-leader');
        expect(ready).toContain('leader since');
        const payload = Buffer.from('{"ref":"refs/heads/x",  "spaced":  true}');
        const delivered = await fetch(`${service.url}/v1/hooks/default/app-hook/hook`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...signWebhook('github', SECRET, payload, { id: 'app-1' }) },
          body: payload,
        });
        expect(delivered.status).toBe(200);
        expect(await delivered.json()).toMatchObject({ outcome: 'fired' });
        const missing = await fetch(`${service.url}/v1/hooks/default/app-hook/nope`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
        expect(missing.status).toBe(404);
        const metrics = await (await fetch(`${service.url}/metrics`)).text();
        expect(metrics).toMatch(/weft_trigger_fires_total\{kind="webhook",outcome="fired"\} \d+/);
        expect(metrics).toContain('weft_trigger_lag_seconds');
        // The leader's "has not fired for twice its period" gauge: just activated, far below 2.
        const overdue = /weft_trigger_schedule_overdue_periods\{weft_namespace="default",workflow="app-hook",trigger="hourly"\} ([\d.e-]+)/.exec(metrics);
        expect(Number(overdue?.[1])).toBeLessThan(0.1);
      } finally {
        await service.close();
      }
    }, 60_000);

    it('overlap cancel-other starts each tick and cancels the run still active; skip skips while one is active', async () => {
      await publish(
        api,
        key,
        `apiVersion: weft/v1
kind: Workflow
name: long-nap
steps:
  - id: nap
    action: sleep
    with: { duration: 1h }
triggers:
  - id: replace
    cron: "@every 1s"
    overlap: cancel-other
  - id: once
    cron: "@every 1s"
    overlap: skip
`,
      );
      await start();
      const fired = async (trigger: string) => (await fires('long-nap', trigger)).filter((f) => f.outcome === 'fired');
      await waitFor(async () => (await fired('replace')).length >= 3 || undefined, 'three cancel-other fires');
      const [first] = await fired('replace');
      await waitFor(async () => (await api.query<{ status: string }>(`SELECT status FROM runs WHERE id = $1`, [first.run_id]))[0]?.status === 'canceled' || undefined, 'the first run canceled');
      await waitFor(async () => (await fires('long-nap', 'once')).filter((f) => f.outcome === 'skipped').length >= 2 || undefined, 'skipped ticks');
      expect(await fired('once')).toHaveLength(1);
    }, 60_000);

    it('an event trigger starts one run per signal of its name (POST /v1/signals), filtered and deduped', async () => {
      await publish(
        api,
        key,
        `apiVersion: weft/v1
kind: Workflow
name: on-approval
inputs:
  invoice: { type: string }
steps:
  - id: a
    action: noop
triggers:
  - id: approved
    event: invoice.approved
    filter: "\${{ event.data.amount > 0 }}"
    dedupe: "\${{ event.key }}"
    inputs: { invoice: "\${{ event.key }}" }
`,
      );
      await start();
      await waitFor(async () => (await api.query(`SELECT 1 FROM trigger_poll_state WHERE workflow = 'on-approval'`)).length > 0 || undefined, 'the trigger to take its starting point');
      const send = async (body: unknown) => {
        const r = await api.request('POST', '/v1/signals', { key, json: body });
        expect(r.status).toBeLessThan(300);
      };
      await send({ name: 'invoice.approved', key: 'INV-1', data: { amount: 10 }, id: 's-1' });
      await send({ name: 'invoice.approved', key: 'INV-1', data: { amount: 10 }, id: 's-2' }); // same dedupe key
      await send({ name: 'invoice.approved', key: 'INV-2', data: { amount: 0 }, id: 's-3' }); // filtered
      await send({ name: 'invoice.rejected', key: 'INV-3', data: { amount: 5 }, id: 's-4' }); // another name
      await send({ name: 'invoice.approved', key: 'INV-4', data: { amount: 7 }, id: 's-5' });
      await waitFor(async () => (await fires('on-approval', 'approved')).length === 4 || undefined, 'four occurrences', 20_000);
      expect((await fires('on-approval', 'approved')).map((f) => `${f.occurrence} ${f.outcome}`)).toEqual(['signal:s-1 fired', 'signal:s-2 duplicate', 'signal:s-3 filtered', 'signal:s-5 fired']);
      await waitFor(async () => (await runs('on-approval')).length === 2 || undefined, 'two runs');
      expect((await runs('on-approval')).map((r) => r.inputs['invoice']).sort()).toEqual(['INV-1', 'INV-4']);
      // A signal's run records the trigger as its source (docs/waits-and-reviews.md, "Who started a run"); the
      // fire log names the signal (its occurrence) next to the run.
      const fired = (await fires('on-approval', 'approved')).filter((f) => f.outcome === 'fired');
      expect(fired.map((f) => f.occurrence)).toEqual(['signal:s-1', 'signal:s-5']);
      for (const fire of fired) {
        const run = (await (await api.request('GET', `/v1/runs/${fire.run_id ?? ''}`, { key })).json()) as { source: string | null };
        expect(run.source).toBe('trigger:approved');
      }
    }, 60_000);
  },
);
