import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { ACTIONS, answer, ETL, ETL_YAML, KEYS, version, workflow } from './__fixtures__/api-verbs.api';
import { serve, weft } from './__fixtures__/recording-server';

// The API verbs added for "everything curl can do": workflows archive|update|delete|run, runs
// output, catalog actions|templates, keys list|revoke and validate --api, as the command line
// parses them, against a server that records each request (method, path, headers, body) and
// answers what the test scripted (__fixtures__/api-verbs.api.ts). The real API is in api-verbs.e2e.spec.ts.

describe('the API verbs through main()', () => {
  let server: Awaited<ReturnType<typeof serve>>;
  let dir: string;
  const saved = { key: process.env.WEFT_API_KEY, url: process.env.WEFT_API_URL };
  const requests = () => server.seen.map((s) => `${s.method} ${s.url}`);

  beforeAll(async () => {
    delete process.env.WEFT_API_KEY;
    delete process.env.WEFT_API_URL;
    server = await serve(answer);
    dir = await mkdtemp(join(tmpdir(), 'weft-api-verbs-unit-'));
  });

  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
    if (saved.key !== undefined) process.env.WEFT_API_KEY = saved.key;
    if (saved.url !== undefined) process.env.WEFT_API_URL = saved.url;
  });

  beforeEach(() => server.seen.splice(0));

  describe('weft workflows archive', () => {
    it('archives a version; --json prints it; exit 2 for a refused or malformed version', async () => {
      expect(await weft('workflows', 'archive', 'etl', '3', '--api', server.url, '--api-key', 'weft_k')).toEqual({ code: 0, out: 'etl: version 3 archived', err: '' });
      expect(server.seen[0]).toMatchObject({ method: 'POST', url: '/v1/workflows/etl/versions/3/archive', headers: { authorization: 'Bearer weft_k' } });
      expect(JSON.parse((await weft('workflows', 'archive', 'etl', '3', '--json', '--api', server.url)).out)).toEqual(version(3, { archived: true }));

      expect(await weft('workflows', 'archive', 'etl', '2', '--api', server.url)).toEqual({
        code: 2,
        out: '',
        err: 'Conflict (VERSION_PUBLISHED): version 2 of etl is published: publish another first',
      });
      expect(await weft('workflows', 'archive', 'etl', 'v2', '--api', server.url)).toMatchObject({ code: 2, err: 'version: expected a version number (got "v2")' });
      expect(requests()).toHaveLength(3);
    });
  });

  describe('weft workflows update', () => {
    it('sets or clears the description (PATCH); without --description exits 2 and sends nothing', async () => {
      expect(await weft('workflows', 'update', 'etl', '--description', 'nightly ETL', '--api', server.url)).toEqual({ code: 0, out: 'etl: description set to "nightly ETL"', err: '' });
      expect(await weft('workflows', 'update', 'etl', '--description', '', '--api', server.url)).toEqual({ code: 0, out: 'etl: description cleared', err: '' });
      expect(server.seen.map((s) => [s.method, s.url, s.body])).toEqual([
        ['PATCH', '/v1/workflows/etl', { description: 'nightly ETL' }],
        ['PATCH', '/v1/workflows/etl', { description: null }],
      ]);
      const printed = await weft('workflows', 'update', 'etl', '--description', 'x', '--json', '--api', server.url);
      expect(JSON.parse(printed.out)).toEqual(workflow({ description: 'x' }));
      expect(await weft('workflows', 'update', 'etl', '--api', server.url)).toMatchObject({ code: 2, err: expect.stringContaining('nothing to change') });
      expect(requests()).toHaveLength(3);
    });
  });

  describe('weft workflows delete', () => {
    it('needs --yes (exit 2, nothing sent, nothing asked); then DELETE; exit 2 for an unknown workflow', async () => {
      expect(await weft('workflows', 'delete', 'etl', '--api', server.url)).toEqual({
        code: 2,
        out: '',
        err: 'deleting etl removes its draft and every version (its runs keep their spec): pass --yes to do it',
      });
      expect(server.seen).toEqual([]);
      expect(await weft('workflows', 'delete', 'etl', '--yes', '--api', server.url)).toEqual({ code: 0, out: 'etl: deleted', err: '' });
      expect(JSON.parse((await weft('workflows', 'delete', 'etl', '-y', '--json', '--api', server.url)).out)).toEqual({ workflow: 'etl', deleted: true });
      expect(await weft('workflows', 'delete', 'nope', '--yes', '--api', server.url)).toMatchObject({ code: 2, err: 'Not Found (WORKFLOW_NOT_FOUND): no workflow nope' });
      expect(requests()).toEqual(['DELETE /v1/workflows/etl', 'DELETE /v1/workflows/etl', 'DELETE /v1/workflows/nope']);
    });
  });

  describe('weft workflows run', () => {
    it('runs the published version with typed inputs and follows it like weft run --api', async () => {
      const inputs = join(dir, 'inputs.json');
      await writeFile(inputs, '{"count": 3}');
      const result = await weft('workflows', 'run', 'etl', '--inputs-file', inputs, '--input', 'count=10', '--idempotency-key', 'order-42', '--api', server.url, '--api-key', 'weft_k');
      expect(result.code).toBe(0);
      expect(result.err).toBe('');
      // The live view's colours (on under CI=true, which picocolors takes as a colour terminal) are not the point here.
      const lines = stripVTControlCharacters(result.out).split('\n');
      expect(lines[0]).toMatch(/▶ run r9 \(etl\) started$/);
      expect(lines[1]).toMatch(/✓ a completed in 800ms$/);
      expect(lines.slice(2)).toEqual(['run completed in 1.00s (1 completed)', 'outputs:', '  n: 10']);
      expect(server.seen.map((s) => [s.method, s.url, s.body])).toEqual([
        ['GET', '/v1/workflows/etl', undefined],
        ['GET', '/v1/workflows/etl/versions/2', undefined],
        // The version whose inputs were checked, and the inputs typed by its spec; started and streamed in one request.
        ['POST', '/v1/workflows/etl/runs?stream=true', { version: 2, inputs: { count: 10 } }],
      ]);
      expect(server.seen[2].headers).toMatchObject({ authorization: 'Bearer weft_k', 'idempotency-key': 'order-42', accept: 'text/event-stream' });
    });

    it('--json prints weft run\'s document; a failed run exits 1, a stream cut short 70', async () => {
      const done = await weft('workflows', 'run', 'etl', '--workflow-version', '3', '--json', '--api', server.url);
      expect(done.code).toBe(0);
      expect(JSON.parse(done.out)).toMatchObject({ runId: 'r9', workflow: 'etl', status: 'completed', outputs: { n: 10 }, steps: [{ id: 'a', status: 'completed' }] });
      // --workflow-version: no need to ask which version is published; the default input was filled in.
      expect(server.seen.map((s) => [s.method, s.url, s.body])).toEqual([
        ['GET', '/v1/workflows/etl/versions/3', undefined],
        ['POST', '/v1/workflows/etl/runs?stream=true', { version: 3, inputs: { count: 1 } }],
      ]);

      const failed = await weft('workflows', 'run', 'etl', '-i', 'count=13', '--json', '--api', server.url);
      expect(failed.code).toBe(1);
      expect(JSON.parse(failed.out)).toMatchObject({ runId: 'bad', status: 'failed', steps: [{ id: 'a', status: 'failed', error: { code: 'BOOM' } }] });
      expect(await weft('workflows', 'run', 'etl', '-i', 'count=99', '--api', server.url)).toMatchObject({ code: 70, err: 'the stream ended before the run did: weft runs show cut' });
    });

    it('--async prints the run id (--json: the accepted run) and exits 0; a replayed idempotency key is said', async () => {
      expect(await weft('workflows', 'run', 'etl', '--async', '--api', server.url)).toEqual({ code: 0, out: 'r9', err: 'etl version 2: run r9 queued (weft logs r9 --follow)' });
      expect(requests()).toEqual(['GET /v1/workflows/etl', 'GET /v1/workflows/etl/versions/2', 'POST /v1/workflows/etl/runs?mode=async']);
      const replayed = await weft('workflows', 'run', 'etl', '--async', '--json', '--idempotency-key', 'seen-before', '--api', server.url);
      expect(replayed.code).toBe(0);
      expect(JSON.parse(replayed.out)).toEqual({ runId: 'r9', status: 'queued', created: false, location: '/v1/runs/r9' });
      expect(replayed.err).toBe('run r9: started earlier with idempotency key seen-before');
    });

    it('exits 2 before starting anything for bad inputs, versions or flags, or no published version; 70 when the API fails', async () => {
      const typed = await weft('workflows', 'run', 'etl', '--input', 'count=ten', '--api', server.url);
      expect(typed.code).toBe(2);
      expect(typed.err).toContain('input "count" must be an integer');
      const unknown = await weft('workflows', 'run', 'etl', '--input', 'cuont=1', '--api', server.url);
      expect(unknown).toMatchObject({ code: 2, err: expect.stringContaining('unknown input "cuont"') });
      expect(requests().filter((r) => r.startsWith('POST'))).toEqual([]);

      server.seen.splice(0);
      expect(await weft('workflows', 'run', 'etl', '--input', 'count', '--api', server.url)).toMatchObject({ code: 2, err: '--input count: expected name=value' });
      expect(await weft('workflows', 'run', 'etl', '--inputs-file', join(dir, 'missing.json'), '--api', server.url)).toMatchObject({ code: 2, err: expect.stringContaining('--inputs-file') });
      expect(await weft('workflows', 'run', 'etl', '--workflow-version', '0', '--api', server.url)).toMatchObject({ code: 2, err: '--workflow-version: expected a version number (got "0")' });
      expect(await weft('workflows', 'run', 'etl', '--idempotency-key', '', '--api', server.url)).toMatchObject({ code: 2, err: '--idempotency-key: expected a key' });
      expect(server.seen).toEqual([]);

      expect(await weft('workflows', 'run', 'fresh', '--api', server.url)).toMatchObject({
        code: 2,
        err: 'fresh has no published version: weft workflows publish fresh <version>, or pass --workflow-version <n>',
      });
      expect(await weft('workflows', 'run', 'nope', '--api', server.url)).toMatchObject({ code: 2, err: 'Not Found (WORKFLOW_NOT_FOUND): no workflow nope' });
      expect(await weft('workflows', 'run', 'etl', '-i', 'count=500', '--api', server.url)).toMatchObject({ code: 70, err: 'Service Unavailable (BUS_UNAVAILABLE): the bus is down' });
    });
  });

  describe('weft runs output', () => {
    it('prints a finished run\'s status and outputs, or its error; --json the API\'s answer; exit 2 while it runs', async () => {
      expect(await weft('runs', 'output', 'r1', '--api', server.url)).toEqual({ code: 0, out: 'run r1: completed\noutputs: {\n  "n": 10\n}', err: '' });
      expect(await weft('runs', 'output', 'r2', '--api', server.url)).toEqual({ code: 0, out: 'run r2: failed\n  error: BOOM it broke\noutputs: none', err: '' });
      expect(JSON.parse((await weft('runs', 'output', 'r1', '--json', '--api', server.url)).out)).toEqual({ runId: 'r1', status: 'completed', outputs: { n: 10 }, error: null });
      expect(await weft('runs', 'output', 'r3', '--api', server.url)).toEqual({ code: 2, out: '', err: 'Conflict (RUN_NOT_FINISHED): run r3 is still running' });
      expect(requests()).toEqual(['GET /v1/runs/r1/output', 'GET /v1/runs/r2/output', 'GET /v1/runs/r1/output', 'GET /v1/runs/r3/output']);
    });
  });

  describe('weft catalog', () => {
    it('actions: a table of name, source, queues, description; --json the items', async () => {
      const listed = await weft('catalog', 'actions', '--api', server.url);
      expect(listed).toMatchObject({ code: 0, err: '' });
      expect(listed.out.split('\n')).toEqual([
        'NAME          SOURCE                QUEUES      DESCRIPTION',
        'http.request  builtin, 2 worker(s)  default,io  an HTTP call',
        'resize        1 worker(s)           images',
        'noop          builtin               -           does nothing',
      ]);
      expect(JSON.parse((await weft('catalog', 'actions', '--json', '--api', server.url)).out)).toEqual(ACTIONS);
      expect(requests()).toEqual(['GET /v1/catalog/actions', 'GET /v1/catalog/actions']);
    });

    it('templates: name, steps, description; --json with the specs; 70 when the API fails', async () => {
      const listed = await weft('catalog', 'templates', '--api', server.url);
      expect(listed).toEqual({ code: 0, out: 'NAME  STEPS  DESCRIPTION\netl   1      extract, transform, load', err: '' });
      expect(JSON.parse((await weft('catalog', 'templates', '--json', '--api', server.url)).out)).toEqual([{ name: 'etl', description: 'extract, transform, load', spec: ETL }]);
      expect(await weft('catalog', 'templates', '--api', server.url, '--api-key', 'broken')).toEqual({ code: 70, out: '', err: 'Internal Server Error (INTERNAL): templates unreadable' });
    });
  });

  describe('weft keys list and revoke', () => {
    it('lists the namespace\'s keys (WEFT_API_URL / WEFT_API_KEY stand in for the flags)', async () => {
      process.env.WEFT_API_URL = server.url;
      process.env.WEFT_API_KEY = 'weft_env';
      try {
        const listed = await weft('keys', 'list');
        expect(listed).toMatchObject({ code: 0, err: '' });
        expect(listed.out.split('\n')).toEqual([
          'KEY ID  NAMESPACE  NAME  CREATED                   REVOKED',
          'k1      default    ci    2026-03-01T10:00:00.000Z  -',
          'k2      default    -     2026-03-02T10:00:00.000Z  2026-03-03T10:00:00.000Z',
        ]);
        expect(server.seen[0]).toMatchObject({ method: 'GET', url: '/v1/keys', headers: { authorization: 'Bearer weft_env' } });
        expect(JSON.parse((await weft('keys', 'list', '--json')).out)).toEqual(KEYS);
        expect(await weft('keys', 'list', '--api-key', 'weft_empty')).toEqual({ code: 0, out: 'no keys', err: '' });
      } finally {
        delete process.env.WEFT_API_URL;
        delete process.env.WEFT_API_KEY;
      }
    });

    it('revokes a key (DELETE); exit 2 for an unknown one', async () => {
      expect(await weft('keys', 'revoke', 'k1', '--api', server.url)).toEqual({ code: 0, out: 'key k1 (namespace default) revoked at 2026-03-04T10:00:00.000Z', err: '' });
      expect(JSON.parse((await weft('keys', 'revoke', 'k1', '--json', '--api', server.url)).out)).toMatchObject({ keyId: 'k1', revokedAt: '2026-03-04T10:00:00.000Z' });
      expect(await weft('keys', 'revoke', 'zz', '--api', server.url)).toEqual({ code: 2, out: '', err: 'Not Found (KEY_NOT_FOUND): no key zz' });
      expect(requests()).toEqual(['DELETE /v1/keys/k1', 'DELETE /v1/keys/k1', 'DELETE /v1/keys/zz']);
      expect((await weft('keys', 'revoke', '--api', server.url)).code).toBe(2);
    });
  });

  describe('weft validate --api', () => {
    it('sends each file\'s text and prints the diagnostics as weft validate does; exit 2 when one is invalid, 70 unreachable', async () => {
      const good = join(dir, 'etl.yaml');
      const bad = join(dir, 'bad.yaml');
      await writeFile(good, ETL_YAML);
      await writeFile(bad, ETL_YAML.replace('action: noop', 'action: noop\n    needs: [zz]'));
      expect(await weft('validate', good, '--api', server.url)).toEqual({ code: 0, out: `${good}: ok (etl)`, err: '' });
      expect(server.seen[0]).toMatchObject({ method: 'POST', url: '/v1/validate', body: { source: ETL_YAML } });

      const both = await weft('validate', good, bad, join(dir, 'missing.yaml'), '--api', server.url);
      expect(both).toEqual({
        code: 2,
        out: `${good}: ok (etl)`,
        err: [
          `${bad}:9:13 error steps[0].needs[0]: unknown step "zz"`,
          '  hint: declared steps: a',
          `${join(dir, 'missing.yaml')}:1:1 error: file not found`,
          '2 of 3 file(s) invalid',
        ].join('\n'),
      });
      // Each command asks the catalog once, after the first valid file (its actions are checked against it).
      expect(server.seen.map((r) => `${r.method} ${r.url}`)).toEqual(['POST /v1/validate', 'GET /v1/catalog/actions', 'POST /v1/validate', 'GET /v1/catalog/actions', 'POST /v1/validate']);

      const closed = await serve(() => undefined);
      await closed.close();
      expect(await weft('validate', good, '--api', closed.url)).toMatchObject({ code: 70, err: expect.stringContaining(`cannot reach the Weft API at ${closed.url}`) });
    });
  });
});
