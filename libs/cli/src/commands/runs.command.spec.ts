import type { Checkpoint } from '@weft/sdk';
import { json, problem, serve, weft } from './__fixtures__/recording-server';

// `weft runs checkpoints` as the command line parses it, against a real HTTP server that
// records what it was asked and answers what the test scripted (the API itself is in
// api-verbs.e2e.spec.ts).

const checkpoint = (stepId: string, output: unknown, state: Record<string, unknown>, attempt: number | null = 1): Checkpoint => ({
  runId: 'r1',
  workflow: 'etl',
  version: '3',
  stepId,
  attempt,
  eventId: `r1:${Object.keys(state).length + 2}:0`,
  at: `2026-03-01T10:00:0${Object.keys(state).length}.000Z`,
  output,
  state,
});

const EXTRACT = checkpoint('extract', { rows: 3 }, { extract: { rows: 3 } });
const LOAD = checkpoint('load', { table: 'x'.repeat(100) }, { extract: { rows: 3 }, load: { table: 'x'.repeat(100) } }, 2);
const NOTHING = checkpoint('notify', null, { extract: { rows: 3 }, load: { table: 'x'.repeat(100) }, notify: null }, null);

describe('weft runs checkpoints', () => {
  let server: Awaited<ReturnType<typeof serve>>;
  const savedKey = process.env.WEFT_API_KEY;
  const savedUrl = process.env.WEFT_API_URL;

  beforeAll(async () => {
    delete process.env.WEFT_API_KEY;
    delete process.env.WEFT_API_URL;
    server = await serve((url, res) => {
      if (url === '/v1/runs/r1/checkpoints') json(res, 200, [EXTRACT, LOAD, NOTHING]);
      else if (url === '/v1/runs/r1/checkpoints/extract') json(res, 200, EXTRACT);
      else if (url === '/v1/runs/early/checkpoints') json(res, 200, []);
      else if (url === '/v1/runs/r1/checkpoints/zz') problem(res, 404, 'Not Found', 'CHECKPOINT_NOT_FOUND', 'run r1 has no checkpoint for step zz (it did not complete, or was pruned)');
      else if (url.startsWith('/v1/runs/broken/')) problem(res, 503, 'Service Unavailable', 'STORE_CLOSED', 'the journal is closing');
      else problem(res, 404, 'Not Found', 'RUN_NOT_FOUND', 'the journal has no entry for run nope');
    });
  });

  afterAll(async () => {
    await server.close();
    if (savedKey !== undefined) process.env.WEFT_API_KEY = savedKey;
    if (savedUrl !== undefined) process.env.WEFT_API_URL = savedUrl;
  });

  beforeEach(() => server.seen.splice(0));

  it('lists every completed step: step, attempt, time, the output on one line', async () => {
    const result = await weft('runs', 'checkpoints', 'r1', '--api', server.url, '--api-key', 'weft_k');
    expect(result).toMatchObject({ code: 0, err: '' });
    expect(result.out.split('\n')).toEqual([
      'run r1: etl version 3, 3 checkpoint(s)',
      'STEP     ATTEMPT  TIME                      OUTPUT',
      'extract  1        2026-03-01T10:00:01.000Z  {"rows":3}',
      `load     2        2026-03-01T10:00:02.000Z  {"table":"${'x'.repeat(49)}…`,
      'notify   -        2026-03-01T10:00:03.000Z  null',
    ]);
    expect(server.seen).toMatchObject([{ method: 'GET', url: '/v1/runs/r1/checkpoints', headers: expect.objectContaining({ authorization: 'Bearer weft_k' }) }]);
  });

  it('shows one step\'s checkpoint in full; --json prints the API\'s answer', async () => {
    const one = await weft('runs', 'checkpoints', 'r1', 'extract', '--api', `${server.url}/v1`);
    expect(one).toMatchObject({ code: 0, err: '' });
    expect(one.out.split('\n')).toEqual([
      'run r1: etl version 3, checkpoint of extract',
      '  attempt  1',
      '  time     2026-03-01T10:00:01.000Z',
      '  event    r1:3:0',
      'output: {',
      '  "rows": 3',
      '}',
      'state (the outputs of 1 step(s) completed by then): extract',
    ]);
    expect(server.seen[0].headers.authorization).toBeUndefined();

    const list = await weft('runs', 'checkpoints', 'r1', '--json', '--api', server.url);
    expect(JSON.parse(list.out)).toEqual([EXTRACT, LOAD, NOTHING]);
    const step = await weft('runs', 'checkpoints', 'r1', 'extract', '--json', '--api', server.url);
    expect(JSON.parse(step.out)).toEqual(EXTRACT);
  });

  it('takes the URL and key from WEFT_API_URL and WEFT_API_KEY', async () => {
    process.env.WEFT_API_URL = server.url;
    process.env.WEFT_API_KEY = 'weft_env';
    try {
      expect(await weft('runs', 'checkpoints', 'early')).toEqual({ code: 0, out: 'run early: no checkpoints (no step has completed)', err: '' });
      expect(server.seen[0]).toMatchObject({ url: '/v1/runs/early/checkpoints', headers: expect.objectContaining({ authorization: 'Bearer weft_env' }) });
    } finally {
      delete process.env.WEFT_API_URL;
      delete process.env.WEFT_API_KEY;
    }
  });

  it('exits 2 for an unknown run or step or a bad command line; 70 when the API fails or cannot be reached', async () => {
    const unknownRun = await weft('runs', 'checkpoints', 'nope', '--api', server.url);
    expect(unknownRun).toEqual({ code: 2, out: '', err: 'Not Found (RUN_NOT_FOUND): the journal has no entry for run nope' });
    const unknownStep = await weft('runs', 'checkpoints', 'r1', 'zz', '--api', server.url);
    expect(unknownStep).toMatchObject({ code: 2, out: '', err: expect.stringContaining('Not Found (CHECKPOINT_NOT_FOUND): run r1 has no checkpoint for step zz') });
    expect(server.seen.map((s) => s.url)).toEqual(['/v1/runs/nope/checkpoints', '/v1/runs/r1/checkpoints/zz']);

    const failed = await weft('runs', 'checkpoints', 'broken', '--api', server.url);
    expect(failed).toEqual({ code: 70, out: '', err: 'Service Unavailable (STORE_CLOSED): the journal is closing' });

    expect((await weft('runs', 'checkpoints', '--api', server.url)).code).toBe(2); // no run id
    expect((await weft('runs', 'checkpoints', 'r1', 'a', 'b', '--api', server.url)).code).toBe(2);
    expect(await weft('runs', 'checkpoints', 'r1', '', '--api', server.url)).toMatchObject({ code: 2, err: '[stepId]: expected a step id' });
    expect(await weft('runs', 'checkpoints', 'r1', '--api', 'localhost:8080')).toMatchObject({ code: 2, err: expect.stringContaining('--api: expected a URL') });
    expect(server.seen).toHaveLength(3);

    const closed = await serve(() => undefined);
    await closed.close();
    expect(await weft('runs', 'checkpoints', 'r1', '--api', closed.url)).toMatchObject({ code: 70, err: expect.stringContaining(`cannot reach the Weft API at ${closed.url}`) });
  });
});
