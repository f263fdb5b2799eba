import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Command } from 'commander';
import { json, problem, serve, weft, captureIo, type RecordingServer } from './commands/__fixtures__/recording-server';
import { devCommand } from './commands/dev.command';
import { EXIT } from './exit-codes';
import { buildProgram } from './main';

// The conventions every verb keeps (issue 17 item 6): WEFT_API_URL / WEFT_API_KEY for every
// --api verb, --json on every read verb, help wrapped with each default shown once, a busy
// port in one line, and the exit codes 0, 1, 2, 70.

/** Verbs that only read: each takes --json. */
const READ_VERBS = [
  'validate',
  'history',
  'insights',
  'logs',
  'workflows list',
  'workflows show',
  'runs list',
  'runs show',
  'runs why',
  'runs output',
  'runs checkpoints',
  'catalog actions',
  'catalog templates',
  'keys list',
  'triggers list',
  'triggers fires',
  'signals',
  'audit',
  'reviews list',
  'reviews show',
];

function commandsOf(program: Command, prefix = ''): [string, Command][] {
  return program.commands.flatMap((c): [string, Command][] => {
    const name = `${prefix}${c.name()}`;
    return c.commands.length > 0 ? commandsOf(c, `${name} `) : [[name, c]];
  });
}

const program = buildProgram(captureIo(), { code: 0 });
const verbs = new Map(commandsOf(program));

describe('weft: one convention for every verb', () => {
  const saved = { url: process.env.WEFT_API_URL, key: process.env.WEFT_API_KEY };
  let server: RecordingServer;

  beforeAll(async () => {
    server = await serve((url, res) => {
      if (url === '/v1/runs/r1/history') json(res, 200, { runId: 'r1', steps: [] });
      else if (url.startsWith('/v1/insights')) json(res, 200, { hotspots: [] });
      else problem(res, 404, 'Not Found', 'RUN_NOT_FOUND', 'no run nope');
    });
  });
  afterAll(async () => {
    await server.close();
  });
  afterEach(() => {
    for (const [name, value] of [['WEFT_API_URL', saved.url], ['WEFT_API_KEY', saved.key]] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it.each([
    ['history', ['history', 'r1', '--json'], '/v1/runs/r1/history'],
    ['insights', ['insights', '--json'], '/v1/insights'],
  ])('%s reads WEFT_API_URL and WEFT_API_KEY (no --api)', async (_name, args, path) => {
    process.env.WEFT_API_URL = server.url;
    process.env.WEFT_API_KEY = 'wk_test_key';
    const before = server.seen.length;
    const result = await weft(...args);
    expect(result).toMatchObject({ code: EXIT.ok });
    const asked = server.seen.slice(before);
    expect(asked).toHaveLength(1);
    expect(asked[0]?.url.startsWith(path)).toBe(true);
    expect(asked[0]?.headers.authorization).toBe('Bearer wk_test_key');
    expect(JSON.parse(result.out)).toEqual(expect.any(Object));
  });

  it('a bad WEFT_API_URL is a message naming it and exit 2, for history as for the other verbs', async () => {
    process.env.WEFT_API_URL = 'not a url';
    for (const args of [['history', 'r1'], ['runs', 'show', 'r1']]) {
      const result = await weft(...args);
      expect(result.code).toBe(EXIT.invalid);
      expect(result.err).toContain('WEFT_API_URL');
    }
  });

  it.each(READ_VERBS)('%s takes --json', (name) => {
    const command = verbs.get(name);
    expect(command).toBeDefined();
    expect(command?.options.map((o) => o.long)).toContain('--json');
  });

  it('every --api verb documents the same --api and --api-key', () => {
    const withApi = [...verbs].filter(([, c]) => c.options.some((o) => o.long === '--api'));
    expect(withApi.length).toBeGreaterThan(30);
    for (const [name, command] of withApi) {
      if (name === 'run' || name === 'validate') continue; // --api there switches where it happens; nothing reads WEFT_API_URL
      const api = command.options.find((o) => o.long === '--api');
      const key = command.options.find((o) => o.long === '--api-key');
      expect([name, api?.description]).toEqual([name, expect.stringMatching(/^the deployment API \(default: WEFT_API_URL, else /)]);
      expect([name, key?.description]).toEqual([name, 'API key for --api (default: WEFT_API_KEY)']);
    }
  });

  it('help is wrapped to 80 columns and names each default once, as "(default: ...)"', () => {
    for (const [name, command] of [['weft', program] as [string, Command], ...verbs]) {
      command.configureOutput({ getOutHelpWidth: () => 80 });
      for (const line of command.helpInformation().split('\n')) expect([name, line.length <= 80 ? 'fits' : line]).toEqual([name, 'fits']);
      for (const option of command.options) {
        const text = `${option.description} ${option.defaultValue !== undefined && typeof option.defaultValue !== 'boolean' && !Array.isArray(option.defaultValue) ? `(default: ${JSON.stringify(option.defaultValue)})` : ''}`;
        expect([name, option.long, (text.match(/\(default/g) ?? []).length <= 1]).toEqual([name, option.long, true]);
        expect([name, option.long, /\(default \w|[,;] default:? /.test(text)]).toEqual([name, option.long, false]);
      }
    }
  });

  describe('exit codes', () => {
    it('0: done; 2: a bad command line, an unknown run, --json with --follow; 70: an API that cannot be reached', async () => {
      expect((await weft('validate', 'examples/diamond.yaml')).code).toBe(EXIT.ok);
      expect((await weft('runs', 'list', '--bogus')).code).toBe(EXIT.invalid);
      expect((await weft('runs', 'show', 'nope', '--api', server.url)).code).toBe(EXIT.invalid);
      expect((await weft('history', 'nope', '--api', server.url)).code).toBe(EXIT.invalid);
      expect((await weft('logs', 'r1', '--json', '--follow', '--api', server.url)).code).toBe(EXIT.invalid);
      const closed = await closedPort();
      for (const args of [['history', 'r1'], ['insights'], ['runs', 'show', 'r1'], ['logs', 'r1']]) {
        const result = await weft(...args, '--api', `http://127.0.0.1:${closed}`);
        expect([args.join(' '), result.code]).toEqual([args.join(' '), EXIT.internal]);
      }
    });

    it('1: the run ended failed (embedded, in this process)', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'weft-exit-'));
      try {
        const file = join(dir, 'fails.yaml');
        await writeFile(file, 'apiVersion: weft/v1\nkind: Workflow\nname: fails\nsteps:\n  - id: boom\n    action: fail\n    with: { message: no luck, code: NOPE }\n');
        const result = await weft('run', file, '--json', '--no-store');
        expect(result.code).toBe(EXIT.runFailed);
        expect(JSON.parse(result.out)).toMatchObject({ status: 'failed' });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('weft dev on a busy port: one line, exit 2, nothing started', async () => {
      const holder = await listening();
      try {
        const port = (holder.address() as AddressInfo).port;
        const io = captureIo();
        const code = await devCommand({ port: String(port), actions: [] }, io, { WEFT_DATA_DIR: 'memory://', HOST: '127.0.0.1' });
        expect(code).toBe(EXIT.invalid);
        expect(io.errors).toEqual([`port ${port} is in use; pass --port`]);
        expect(io.lines).toEqual([]);
      } finally {
        await new Promise((resolve) => holder.close(resolve));
      }
    });
  });
});

function listening(): Promise<Server> {
  const server = createServer();
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** A port nothing listens on: one that was just free. */
async function closedPort(): Promise<number> {
  const server = await listening();
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
