import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WeftApiError, WeftConnectionError } from './client.errors';
import { readServerSentEvents } from './sse.util';
import { WeftClient } from './weft.client';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A real HTTP server that records requests and answers with what the test scripted. */
async function serve(answer: (seen: Seen, res: ServerResponse) => void): Promise<{ url: string; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const request = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      seen.push(request);
      answer(request, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, seen, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const json = (res: ServerResponse, status: number, body: unknown, type = 'application/json'): void => {
  res.writeHead(status, { 'Content-Type': type });
  res.end(JSON.stringify(body));
};

describe('WeftClient', () => {
  it('sends the key, JSON bodies, query strings and idempotency keys the API expects', async () => {
    const server = await serve((seen, res) => json(res, seen.url.startsWith('/v1/runs?') ? 200 : 202, { runId: 'r1', status: 'running', created: true, location: '/v1/runs/r1', items: [], nextCursor: null }));
    try {
      const client = new WeftClient({ url: server.url, apiKey: 'weft_k' });
      await client.workflows.start('data pipeline', { inputs: { n: 1 }, version: 3, idempotencyKey: 'order-1' });
      await client.runs.list({ workflow: 'x', status: ['failed', 'canceled'], limit: 5 });
      const [start, list] = server.seen;
      expect(start).toMatchObject({ method: 'POST', url: '/v1/workflows/data%20pipeline/runs?mode=async', body: '{"version":3,"inputs":{"n":1}}' });
      expect(start.headers).toMatchObject({ authorization: 'Bearer weft_k', 'content-type': 'application/json', 'idempotency-key': 'order-1' });
      expect(list).toMatchObject({ method: 'GET', url: '/v1/runs?workflow=x&status=failed%2Ccanceled&limit=5', body: '' });
      expect(list.headers['content-type']).toBeUndefined();
    } finally {
      await server.close();
    }
  });

  it('turns a problem document into WeftApiError with its code and field errors', async () => {
    const problem = { type: 'urn:weft:problem:invalid-spec', title: 'Unprocessable Content', status: 422, detail: '1 error', code: 'INVALID_SPEC', errors: [{ path: 'steps[0].needs[0]', message: 'unknown step "x"' }] };
    const server = await serve((_seen, res) => json(res, 422, problem, 'application/problem+json'));
    try {
      const error = await new WeftClient({ url: server.url }).workflows.saveDraft('w', { source: 'x' }, { ifRevision: 4 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WeftApiError);
      expect(error).toMatchObject({ status: 422, code: 'INVALID_SPEC', problem });
      expect((error as Error).message).toContain('steps[0].needs[0]: unknown step "x"');
      expect(server.seen[0].headers['if-match']).toBe('"4"');
    } finally {
      await server.close();
    }
  });

  it('reads the journal: history, events (filtered, paged by cursor), checkpoints, reconstruction', async () => {
    const entry = (n: number) => ({ eventId: `r/1:${n}:0`, runId: 'r/1', type: 'step.failed', seq: n });
    const server = await serve((seen, res) => {
      const url = new URL(seen.url, 'http://x');
      if (url.pathname === '/v1/events') json(res, 200, url.searchParams.get('after') === null ? { items: [entry(1)], nextCursor: 'c1' } : { items: [entry(2)], nextCursor: null });
      else if (url.pathname.endsWith('/events')) json(res, 200, { items: [], nextCursor: null });
      else if (url.pathname.endsWith('/checkpoints')) json(res, 200, [{ stepId: 'a b', output: 1 }]);
      else json(res, 200, { run: { runId: 'r/1' } });
    });
    try {
      const client = new WeftClient({ url: server.url, apiKey: 'weft_k' });
      expect(await client.runs.history('r/1')).toEqual({ run: { runId: 'r/1' } });
      await client.runs.events('r/1', { type: ['step.failed', 'step.retrying'], since: '24h', until: '2026-01-02T00:00:00Z', limit: 10, cursor: 'c0' });
      await client.runs.events('r/1');
      expect(await client.runs.checkpoints('r/1')).toEqual([{ stepId: 'a b', output: 1 }]);
      await client.runs.checkpoint('r/1', 'a b');
      await client.runs.reconstruct('r/1');
      // Across runs, page after page until nextCursor is null.
      const ids: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await client.events({ workflow: 'etl', runId: 'r/1', type: ['step.failed'], limit: 1, ...(cursor !== undefined && { cursor }) });
        ids.push(...page.items.map((e) => e.eventId));
        cursor = page.nextCursor ?? undefined;
      } while (cursor !== undefined);
      expect(ids).toEqual(['r/1:1:0', 'r/1:2:0']);

      expect(server.seen.map((s) => `${s.method} ${s.url}`)).toEqual([
        'GET /v1/runs/r%2F1/history',
        'GET /v1/runs/r%2F1/events?type=step.failed%2Cstep.retrying&since=24h&until=2026-01-02T00%3A00%3A00Z&limit=10&after=c0',
        'GET /v1/runs/r%2F1/events',
        'GET /v1/runs/r%2F1/checkpoints',
        'GET /v1/runs/r%2F1/checkpoints/a%20b',
        'GET /v1/runs/r%2F1/reconstruct',
        'GET /v1/events?type=step.failed&limit=1&workflow=etl&runId=r%2F1',
        'GET /v1/events?type=step.failed&limit=1&after=c1&workflow=etl&runId=r%2F1',
      ]);
      for (const seen of server.seen) {
        expect(seen.headers).toMatchObject({ authorization: 'Bearer weft_k', accept: 'application/json' });
        expect(seen.body).toBe('');
      }
    } finally {
      await server.close();
    }
  });

  it('reads insights: summary, hotspots, trends, steps and reviews over a window', async () => {
    const server = await serve((seen, res) => json(res, 200, { window: { workflow: null, since: 's', until: 'u' }, path: seen.url }));
    try {
      const client = new WeftClient({ url: server.url, apiKey: 'weft_k' });
      await client.insights.summary();
      await client.insights.summary({ workflow: 'etl', since: '7d', until: '1h', window: 5 });
      await client.insights.hotspots({ since: '2026-03-01T10:00:00Z', limit: 3 });
      await client.insights.trends({ workflow: 'etl', window: 2, granularity: 'day' });
      expect(await client.insights.steps({ workflow: 'a&b' })).toEqual({ window: { workflow: null, since: 's', until: 'u' }, path: '/v1/insights/steps?workflow=a%26b' });
      await client.insights.reviews();
      await client.insights.reviews({ workflow: 'invoices', since: '7d', until: '2026-03-02T00:00:00Z' });
      expect(server.seen.map((s) => s.url)).toEqual([
        '/v1/insights',
        '/v1/insights?workflow=etl&since=7d&until=1h&window=5',
        '/v1/insights/hotspots?since=2026-03-01T10%3A00%3A00Z&limit=3',
        '/v1/insights/trends?workflow=etl&window=2&granularity=day',
        '/v1/insights/steps?workflow=a%26b',
        '/v1/insights/reviews',
        '/v1/insights/reviews?workflow=invoices&since=7d&until=2026-03-02T00%3A00%3A00Z',
      ]);
      expect(server.seen.every((s) => s.method === 'GET' && s.headers.authorization === 'Bearer weft_k')).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('turns the journal\'s and insights\' problems into WeftApiError', async () => {
    const problem = (status: number, code: string, detail: string) => ({ type: `urn:weft:problem:${code.toLowerCase()}`, title: 'x', status, detail, code });
    const server = await serve((seen, res) => {
      if (seen.url.includes('/checkpoints/')) json(res, 404, problem(404, 'CHECKPOINT_NOT_FOUND', 'run r1 has no checkpoint for step zz'), 'application/problem+json');
      else if (seen.url.startsWith('/v1/runs/')) json(res, 404, problem(404, 'RUN_NOT_FOUND', 'the journal has no entry for run r1'), 'application/problem+json');
      else if (seen.url.startsWith('/v1/events')) json(res, 401, problem(401, 'UNAUTHORIZED', 'no key'), 'application/problem+json');
      else json(res, 400, problem(400, 'INVALID_QUERY', 'granularity: expected hour or day (got "week")'), 'application/problem+json');
    });
    try {
      const client = new WeftClient({ url: server.url });
      const failure = (promise: Promise<unknown>) => promise.then(() => undefined, (e: unknown) => (e instanceof WeftApiError ? { status: e.status, code: e.code } : e));
      expect(await failure(client.runs.checkpoint('r1', 'zz'))).toEqual({ status: 404, code: 'CHECKPOINT_NOT_FOUND' });
      expect(await failure(client.runs.history('r1'))).toEqual({ status: 404, code: 'RUN_NOT_FOUND' });
      expect(await failure(client.runs.checkpoints('r1'))).toEqual({ status: 404, code: 'RUN_NOT_FOUND' });
      expect(await failure(client.events())).toEqual({ status: 401, code: 'UNAUTHORIZED' });
      // A value the server refuses (the SDK's types allow only hour or day; plain JS may send anything).
      expect(await failure(client.insights.trends({ granularity: 'week' as 'day' }))).toEqual({ status: 400, code: 'INVALID_QUERY' });
      expect(server.seen[0].headers.authorization).toBeUndefined();
    } finally {
      await server.close();
    }
  });

  it('says so when nothing listens, or something else answers', async () => {
    const server = await serve((_seen, res) => {
      res.writeHead(502, { 'Content-Type': 'text/html' });
      res.end('<h1>bad gateway</h1>');
    });
    try {
      await expect(new WeftClient({ url: server.url }).runs.get('r1')).rejects.toThrow(/HTTP 502 from something that is not the Weft API/);
    } finally {
      await server.close();
    }
    await expect(new WeftClient({ url: server.url }).runs.get('r1')).rejects.toBeInstanceOf(WeftConnectionError);
  });

  it('streams a run: snapshot, lifecycle events, end', async () => {
    const run = { runId: 'r1', status: 'running' };
    const event = { eventId: 'r1:2:0', type: 'step.completed', runId: 'r1', workflow: 'w', version: 'adhoc', status: 'completed', at: '2026-01-01T00:00:00.000Z' };
    const server = await serve((_seen, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.write(`event: snapshot\ndata: ${JSON.stringify(run)}\n\n: keep-alive\n\n`);
      // An event split across writes, with CRLF line ends, still parses.
      const text = `id: r1:2:0\r\ndata: ${JSON.stringify(event)}\r\n\r\n`;
      res.write(text.slice(0, 10));
      res.write(text.slice(10));
      res.end(`event: end\ndata: ${JSON.stringify({ ...run, status: 'completed' })}\n\n`);
    });
    try {
      const seen = [];
      for await (const e of new WeftClient({ url: server.url }).runs.stream('r1')) seen.push(e);
      expect(seen).toEqual([
        { type: 'snapshot', run },
        { type: 'event', event },
        { type: 'end', run: { ...run, status: 'completed' } },
      ]);
      expect(server.seen[0].headers.accept).toBe('text/event-stream');

      // A stored workflow's run, started and streamed in one request.
      const started = [];
      for await (const e of new WeftClient({ url: server.url }).workflows.follow('etl', { version: 2, inputs: { n: 1 }, idempotencyKey: 'k-1' })) started.push(e.type);
      expect(started).toEqual(['snapshot', 'event', 'end']);
      expect(server.seen[1]).toMatchObject({ method: 'POST', url: '/v1/workflows/etl/runs?stream=true', headers: { accept: 'text/event-stream', 'idempotency-key': 'k-1' } });
      expect(JSON.parse(server.seen[1].body)).toEqual({ version: 2, inputs: { n: 1 } });
    } finally {
      await server.close();
    }
  });
});

describe('readServerSentEvents', () => {
  it('joins multi-line data and ignores comments', async () => {
    const stream = new Response('event: x\ndata: a\ndata: b\n\n: comment\n\ndata: c\n\n').body;
    if (!stream) throw new Error('no body');
    const events = [];
    for await (const e of readServerSentEvents(stream)) events.push(e);
    expect(events).toEqual([
      { event: 'x', data: 'a\nb' },
      { event: 'message', data: 'c' },
    ]);
  });
});
