import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ActionError } from '../action.errors';
import { testContext } from '../__fixtures__/action-context.fixture';
import { createHttpRequestAction, httpRequestAction, type HttpRequestOutput } from './http-request.action';

/** A real local server: the action is tested where users meet it, over a socket. */
let server: Server;
let base: string;
const requests: { method?: string; url?: string; headers: IncomingMessage['headers']; body: string }[] = [];

function route(req: IncomingMessage, res: ServerResponse, body: string): void {
  const send = (status: number, contentType: string, text: string): void => {
    res.writeHead(status, { 'content-type': contentType, 'x-test': 'yes' }).end(text);
  };
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  if (path === '/json') return send(200, 'application/json; charset=utf-8', JSON.stringify({ hello: 'world', n: 42 }));
  if (path === '/echo') return send(201, 'application/json', JSON.stringify({ method: req.method, contentType: req.headers['content-type'], auth: req.headers.authorization, body }));
  if (path === '/text') return send(200, 'text/plain', 'plain text');
  if (path === '/problem') return send(422, 'application/problem+json', JSON.stringify({ title: 'Unprocessable' }));
  if (path === '/empty') return void res.writeHead(204).end();
  if (path === '/status/404') return send(404, 'application/json', JSON.stringify({ error: 'no such thing' }));
  if (path === '/status/503') return send(503, 'text/plain', 'try later');
  if (path === '/slow') return; // never answers; closeAllConnections ends it
  if (path === '/redirect/json') return void res.writeHead(302, { location: '/json' }).end();
  if (path === '/redirect/post') return void res.writeHead(303, { location: '/echo' }).end();
  if (path === '/redirect/loop') return void res.writeHead(307, { location: '/redirect/loop' }).end();
  if (path === '/redirect/metadata') return void res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
  if (path === '/redirect/private') return void res.writeHead(301, { location: 'http://10.0.0.1:5432/' }).end();
  send(500, 'text/plain', 'unknown route');
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: req.method, url: req.url, headers: req.headers, body });
      route(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

// The test server is on loopback, which http.request refuses unless allowed: allow it, as WEFT_HTTP_ALLOW would.
const allowed = createHttpRequestAction({ allow: ['127.0.0.1/32'] });
const request = (input: Record<string, unknown>, ctx = testContext(), action = allowed): Promise<HttpRequestOutput> =>
  new Promise((resolve) => resolve(action.handler(input, ctx) as Promise<HttpRequestOutput>));

describe('http.request', () => {
  it('GETs by default and parses a JSON body', async () => {
    const output = await request({ url: `${base}/json` });
    expect(output.status).toBe(200);
    expect(output.body).toEqual({ hello: 'world', n: 42 });
    expect(output.headers).toMatchObject({ 'content-type': 'application/json; charset=utf-8', 'x-test': 'yes' });
    expect(requests.at(-1)?.method).toBe('GET');
  });

  it('sends an object body as JSON with the given method and headers', async () => {
    const output = await request({ method: 'post', url: `${base}/echo`, headers: { authorization: 'Bearer t' }, body: { rows: [1, 2] } });
    expect(output.status).toBe(201);
    expect(output.body).toEqual({ method: 'POST', contentType: 'application/json', auth: 'Bearer t', body: '{"rows":[1,2]}' });
  });

  it('sends a string body as is and keeps a caller content-type', async () => {
    const output = await request({ method: 'PUT', url: `${base}/echo`, headers: { 'content-type': 'text/csv' }, body: 'a,b\n1,2' });
    expect(output.body).toMatchObject({ method: 'PUT', contentType: 'text/csv', body: 'a,b\n1,2' });
  });

  it('returns text bodies as text and empty bodies as null', async () => {
    await expect(request({ url: `${base}/text` })).resolves.toMatchObject({ status: 200, body: 'plain text' });
    await expect(request({ url: `${base}/empty` })).resolves.toMatchObject({ status: 204, body: null });
  });

  it('fails a 404 for good with HTTP_404', async () => {
    const failure = request({ url: `${base}/status/404` });
    await expect(failure).rejects.toBeInstanceOf(ActionError);
    await expect(failure).rejects.toMatchObject({ code: 'HTTP_404', retryable: false, message: expect.stringContaining('no such thing') });
  });

  it('fails a 503 retryably with HTTP_503', async () => {
    await expect(request({ url: `${base}/status/503` })).rejects.toMatchObject({ code: 'HTTP_503', retryable: true, message: expect.stringContaining('503') });
  });

  it('completes with any status when failOnStatus is false (problem+json parsed)', async () => {
    await expect(request({ url: `${base}/problem`, failOnStatus: false })).resolves.toMatchObject({ status: 422, body: { title: 'Unprocessable' } });
    await expect(request({ url: `${base}/status/503`, failOnStatus: false })).resolves.toMatchObject({ status: 503, body: 'try later' });
  });

  it('fails retryably with HTTP_TIMEOUT when its own timeout passes', async () => {
    const started = Date.now();
    await expect(request({ url: `${base}/slow`, timeout: '100ms' })).rejects.toMatchObject({ code: 'HTTP_TIMEOUT', retryable: true });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('stops when the step signal fires and rethrows its reason', async () => {
    const controller = new AbortController();
    const reason = new ActionError('CANCELED', 'run canceled', { retryable: false });
    const pending = request({ url: `${base}/slow` }, testContext({ signal: controller.signal }));
    const seen = requests.length;
    // Abort once the server has the request, so the abort interrupts a live exchange.
    while (!requests.slice(seen).some((r) => r.url === '/slow')) await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });

  it('fails retryably with HTTP_NETWORK when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(request({ url: `http://127.0.0.1:${port}/` })).rejects.toMatchObject({
      code: 'HTTP_NETWORK',
      retryable: true,
      message: expect.stringContaining('ECONNREFUSED'),
    });
  });

  it.each([
    [{}, 'with.url'],
    [{ url: 'not a url' }, 'with.url'],
    [{ url: 'ftp://example.com/x' }, 'http or https'],
    [{ url: 'http://x.test', method: 'FETCH' }, 'with.method'],
    [{ url: 'http://x.test', body: { a: 1 } }, 'cannot have with.body'],
    [{ url: 'http://x.test', timeout: 'soon' }, 'with.timeout'],
    [{ url: 'http://x.test', headers: 'x' }, 'with.headers'],
  ])('rejects invalid input %p as non-retryable INVALID_INPUT', async (input, mention) => {
    await expect(request(input)).rejects.toMatchObject({ code: 'INVALID_INPUT', retryable: false, message: expect.stringContaining(mention) });
  });

  it('follows redirects itself, turning a 303 after POST into a GET', async () => {
    await expect(request({ url: `${base}/redirect/json` })).resolves.toMatchObject({ status: 200, body: { hello: 'world' } });
    await expect(request({ method: 'POST', url: `${base}/redirect/post`, body: { a: 1 } })).resolves.toMatchObject({ status: 201, body: { method: 'GET', body: '' } });
  });

  it('fails for good after too many redirects', async () => {
    await expect(request({ url: `${base}/redirect/loop` })).rejects.toMatchObject({ code: 'HTTP_TOO_MANY_REDIRECTS', retryable: false });
  });
});

describe('http.request destinations (issue 12)', () => {
  const denied = (input: Record<string, unknown>, action = httpRequestAction) => expect(request(input, testContext(), action)).rejects;

  it('refuses loopback by default, naming the host, the address and WEFT_HTTP_ALLOW, before sending anything', async () => {
    const seen = requests.length;
    await denied({ url: `${base}/json` }).toMatchObject({
      code: 'HTTP_DESTINATION_DENIED',
      retryable: false,
      message: expect.stringMatching(/127\.0\.0\.1.*loopback.*WEFT_HTTP_ALLOW/),
    });
    expect(requests.length).toBe(seen);
  });

  it('checks the address a name resolves to (localhost), not the name', async () => {
    await denied({ url: `${base.replace('127.0.0.1', 'localhost')}/json` }).toMatchObject({
      code: 'HTTP_DESTINATION_DENIED',
      message: expect.stringMatching(/localhost \(resolved to (127\.0\.0\.1|::1)\)/),
    });
  });

  it.each([
    ['http://169.254.169.254/latest/meta-data/', 'link-local'],
    ['http://10.1.2.3/', 'private'],
    ['http://192.168.0.10:8080/', 'private'],
    ['http://100.64.0.1/', 'CGNAT'],
    ['http://0.0.0.0:5432/', 'this network'],
    ['http://[::1]:4222/', 'loopback'],
    ['http://[::ffff:127.0.0.1]:8080/', 'loopback'],
    ['http://[::ffff:a9fe:a9fe]/', 'link-local'],
    ['http://[fd00::1]/', 'unique local'],
    ['http://[fe80::1]/', 'link-local'],
    ['http://224.0.0.1/', 'multicast'],
  ])('refuses %s (%s)', async (url, reason) => {
    await denied({ url }).toMatchObject({ code: 'HTTP_DESTINATION_DENIED', message: expect.stringContaining(reason) });
  });

  it('checks every redirect hop: an allowed server cannot bounce the request to metadata or a private service', async () => {
    await denied({ url: `${base}/redirect/metadata` }, allowed).toMatchObject({ code: 'HTTP_DESTINATION_DENIED', message: expect.stringContaining('169.254.169.254') });
    await denied({ url: `${base}/redirect/private` }, allowed).toMatchObject({ code: 'HTTP_DESTINATION_DENIED', message: expect.stringContaining('10.0.0.1') });
  });

  it('allows a host by name, and never the deployment\'s own endpoints', async () => {
    const byName = createHttpRequestAction({ allow: ['localhost'] });
    await expect(request({ url: `${base.replace('127.0.0.1', 'localhost')}/json` }, testContext(), byName)).resolves.toMatchObject({ status: 200 });
    const port = new URL(base).port;
    const own = createHttpRequestAction({ allow: ['127.0.0.0/8'], protect: [`127.0.0.1:${port}`] });
    await denied({ url: `${base}/json` }, own).toMatchObject({ code: 'HTTP_DESTINATION_DENIED', message: expect.stringContaining('own services') });
  });

  it('rejects a malformed allowlist entry, naming the variable', () => {
    expect(() => createHttpRequestAction({ allow: ['10.0.0.0/33'] })).toThrow(/WEFT_HTTP_ALLOW.*10\.0\.0\.0\/33/);
    expect(() => createHttpRequestAction({ allow: ['http://x'] })).toThrow(/WEFT_HTTP_ALLOW/);
  });
});
