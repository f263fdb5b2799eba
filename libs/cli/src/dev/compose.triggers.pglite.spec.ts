import { createHmac } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@weft/config';
import { bootService, type ServiceHandle } from '@weft/platform';
import { composeDev } from './compose';

/**
 * `weft dev` runs the triggers service in its one process (PGlite, in-memory bus): a published
 * workflow's webhook trigger takes signed deliveries at /v1/hooks without an API key (the API
 * gate leaves the route to the signature), over the exact bytes received.
 */
describe('weft dev: triggers', () => {
  let dir: string;
  let service: ServiceHandle;
  const secret = 'dev-hook-secret';

  beforeAll(async () => {
    process.env['WEFT_DEV_TEST_HOOK_SECRET'] = secret;
    dir = await mkdtemp(join(tmpdir(), 'weft-dev-triggers-'));
    // Bound to loopback, the API takes requests without a key; the hook needs none anyway.
    const composition = await composeDev(loadConfig({ WEFT_DATA_DIR: dir, HOST: '127.0.0.1', PORT: '0' }), []);
    service = await bootService(composition.module, { name: 'dev', port: 0, host: '127.0.0.1', handleSignals: false, rawBody: true });
  }, 120_000);

  afterAll(async () => {
    await service?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
    delete process.env['WEFT_DEV_TEST_HOOK_SECRET'];
  });

  const call = (method: string, path: string, body?: unknown) =>
    fetch(`${service.url}${path}`, { method, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

  it('serves a published webhook trigger: signed deliveries start a run once, a bad signature is 401', async () => {
    const source = `apiVersion: weft/v1
kind: Workflow
name: dev-hook
inputs:
  ref: { type: string }
steps:
  - id: a
    action: noop
triggers:
  - id: push
    webhook: { preset: github, secret: { env: WEFT_DEV_TEST_HOOK_SECRET } }
    inputs: { ref: "\${{ event.body.ref }}" }
`;
    expect((await call('POST', '/v1/workflows', { source })).status).toBe(201);
    expect((await call('POST', '/v1/workflows/dev-hook/versions')).status).toBe(201);
    expect((await call('POST', '/v1/workflows/dev-hook/versions/1/publish')).status).toBe(200);
    const deadline = Date.now() + 20_000;
    while (!((await (await call('GET', '/v1/triggers')).json()) as { triggers: unknown[] }).triggers.length) {
      if (Date.now() > deadline) throw new Error('the trigger never appeared');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // Spaces a re-serialised body would lose: the signature is over these exact bytes.
    const body = Buffer.from('{ "ref" : "refs/heads/dev" }');
    const signature = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
    const hook = (sig: string) =>
      fetch(`${service.url}/v1/hooks/default/dev-hook/push`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': sig, 'x-github-delivery': 'dev-1' }, body });
    const first = await hook(signature);
    expect(first.status).toBe(200);
    const fired = (await first.json()) as { outcome: string; runId: string };
    expect(fired.outcome).toBe('fired');
    expect(await (await hook(signature)).json()).toMatchObject({ outcome: 'duplicate' });
    const refused = await hook('sha256=00');
    expect(refused.status).toBe(401);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    let run: { status: number; body: { inputs?: unknown } } = { status: 0, body: {} };
    while (Date.now() < deadline) {
      const r = await call('GET', `/v1/runs/${fired.runId}`);
      run = { status: r.status, body: (await r.json()) as { inputs?: unknown } };
      if (run.status === 200) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(run.status).toBe(200);
    expect(run.body.inputs).toEqual({ ref: 'refs/heads/dev' });
  }, 60_000);
});
