import { join } from 'node:path';
import { historyCommand } from '../commands/history.command';
import { insightsCommand } from '../commands/insights.command';
import type { FetchLike } from '@weft/sdk';
import type { Io } from '../io';
import { tempDirForSuite } from '../commands/__fixtures__/temp-dir';

function captureIo(): Io & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, isTTY: false, out: (line) => void lines.push(line), err: (line) => void errors.push(line), write: (text) => void lines.push(text) };
}

/** A fetch that answers from a table of URL -> [status, content type, body], and records what was asked. */
function fakeFetch(routes: Record<string, [number, string, string]>): FetchLike & { asked: string[] } {
  const asked: string[] = [];
  const impl = async (url: string) => {
    asked.push(url);
    const route = routes[url];
    if (!route) throw new TypeError('fetch failed: connect ECONNREFUSED');
    const [status, type, body] = route;
    return new Response(body, { status, headers: { 'content-type': type } });
  };
  return Object.assign(impl, { asked });
}

const problem = (status: number, title: string, detail: string, code: string): [number, string, string] => [
  status,
  'application/problem+json',
  JSON.stringify({ type: `urn:weft:problem:${code}`, title, status, detail, code }),
];

const HISTORY = {
  run: { runId: 'r1', workflow: 'etl', version: '1', status: 'completed', correlationId: null, traceId: null, queuedAt: null, startedAt: null, finishedAt: null, durationMs: 5, inputs: null, outputs: null, error: null, restarts: 0, events: 1 },
  steps: [],
  timeline: [{ at: '2026-03-01T10:00:00.000Z', offsetMs: 0, type: 'run.completed', stepId: null, attempt: null, status: 'completed', durationMs: 5, error: null, text: 'run completed in 5ms' }],
  notes: [],
};

describe('weft history / weft insights with --api', () => {
  it('prints the history from GET /v1/runs/{id}/history, as text or JSON', async () => {
    const fetch = fakeFetch({ 'http://api.test:8080/v1/runs/r%2F1/history': [200, 'application/json', JSON.stringify(HISTORY)] });
    const io = captureIo();
    expect(await historyCommand('r/1', { api: 'http://api.test:8080/v1/' }, io, {}, fetch)).toBe(0);
    expect(io.lines).toEqual(['run r1 · etl version 1 · completed in 5ms', '1 event(s)', '', '  +0ms  run completed in 5ms']);
    const json = captureIo();
    expect(await historyCommand('r/1', { api: 'http://api.test:8080', json: true }, json, {}, fetch)).toBe(0);
    expect(JSON.parse(json.lines.join('\n'))).toEqual(HISTORY);
  });

  it('sends the API key (flag, else WEFT_API_KEY) as a bearer token', async () => {
    const seen: (string | undefined)[] = [];
    const fetch: FetchLike = async (_url, init) => {
      seen.push(new Headers(init.headers).get('authorization') ?? undefined);
      return new Response(JSON.stringify(HISTORY), { status: 200, headers: { 'content-type': 'application/json' } });
    };
    expect(await historyCommand('r1', { api: 'http://api.test', apiKey: 'wk_flag' }, captureIo(), { WEFT_API_KEY: 'wk_env' }, fetch)).toBe(0);
    expect(await historyCommand('r1', { api: 'http://api.test' }, captureIo(), { WEFT_API_KEY: 'wk_env' }, fetch)).toBe(0);
    expect(await historyCommand('r1', { api: 'http://api.test' }, captureIo(), {}, fetch)).toBe(0);
    expect(seen).toEqual(['Bearer wk_flag', 'Bearer wk_env', undefined]);
  });

  it('exits 2 with the problem detail for an unknown run or a bad query, 70 when the API fails or is away', async () => {
    const fetch = fakeFetch({
      'http://api.test/v1/runs/nope/history': problem(404, 'Not Found', 'the journal has no entry for run nope', 'run-not-found'),
      'http://api.test/v1/insights?since=soon': problem(400, 'Bad Request', 'since: expected an ISO 8601 time', 'invalid-query'),
      'http://api.test/v1/runs/boom/history': [502, 'text/html', '<html>bad gateway</html>'],
    });
    const cases: [Promise<number>, ReturnType<typeof captureIo>, number, string][] = [];
    const run = (code: number, message: string, start: (io: Io) => Promise<number>) => {
      const io = captureIo();
      cases.push([start(io), io, code, message]);
    };
    run(2, '404 Not Found: the journal has no entry for run nope', (io) => historyCommand('nope', { api: 'http://api.test' }, io, {}, fetch));
    run(2, '400 Bad Request: since: expected an ISO 8601 time', (io) => insightsCommand({ api: 'http://api.test', since: 'soon' }, io, {}, fetch));
    run(70, 'GET /v1/runs/boom/history: HTTP 502 from something that is not the Weft API (text/html)', (io) => historyCommand('boom', { api: 'http://api.test' }, io, {}, fetch));
    run(70, 'cannot reach the Weft API at http://elsewhere.test: fetch failed: connect ECONNREFUSED', (io) => historyCommand('x', { api: 'http://elsewhere.test' }, io, {}, fetch));
    run(2, '--window: expected a whole number of trend points (got "soon")', (io) => insightsCommand({ api: 'http://api.test', window: 'soon' }, io, {}, fetch));
    run(2, '--api: expected a URL such as http://127.0.0.1:8080 (got "localhost:8080")', (io) => historyCommand('x', { api: 'localhost:8080' }, io, {}, fetch));
    for (const [result, io, code, message] of cases) {
      expect(await result).toBe(code);
      expect(io.errors).toEqual([message]);
    }
  });

  it('passes the insight filters as query parameters', async () => {
    const url = 'http://api.test/v1/insights?workflow=etl&since=7d&until=2026-03-02T00%3A00%3A00Z&window=5';
    const summary = { window: { workflow: 'etl', since: 'a', until: 'b' } };
    const fetch = fakeFetch({ [url]: [200, 'application/json', JSON.stringify(summary)] });
    const io = captureIo();
    expect(await insightsCommand({ api: 'http://api.test', workflow: 'etl', since: '7d', until: '2026-03-02T00:00:00Z', window: '5', json: true }, io, {}, fetch)).toBe(0);
    expect(fetch.asked).toEqual([url]);
    expect(JSON.parse(io.lines.join('\n'))).toEqual(summary);
  });
});

describe('weft history / weft insights in embedded mode', () => {
  let dir = '';
  tempDirForSuite('weft-history-', (made) => (dir = made));

  it('says there is nothing to read without a database, exit 2', async () => {
    const nothing = fakeFetch({});
    const missing = captureIo();
    expect(await historyCommand('r1', {}, missing, { WEFT_DATA_DIR: join(dir, 'never-created') }, nothing)).toBe(2);
    expect(missing.errors).toEqual([`no embedded database in ${join(dir, 'never-created')}: runs are journaled by \`weft dev\` (or pass --api for a deployment)`]);
    const memory = captureIo();
    expect(await insightsCommand({}, memory, { WEFT_DATA_DIR: 'memory://' }, nothing)).toBe(2);
    expect(memory.errors[0]).toMatch(/^WEFT_DATA_DIR is memory:\/\//);
  });

  it('asks a running weft dev instead of opening the database it owns', async () => {
    const fetch = fakeFetch({
      'http://127.0.0.1:18999/health/live': [200, 'application/json', '{"status":"ok"}'],
      'http://127.0.0.1:18999/v1/runs/r1/history': [200, 'application/json', JSON.stringify(HISTORY)],
    });
    const io = captureIo();
    expect(await historyCommand('r1', {}, io, { WEFT_DATA_DIR: dir, PORT: '18999' }, fetch)).toBe(0);
    expect(io.errors).toEqual([`weft dev is running on http://127.0.0.1:18999 and owns PGlite in ${dir}: asking it (pass --api to choose another deployment)`]);
    expect(io.lines[0]).toBe('run r1 · etl version 1 · completed in 5ms');
  });
});
