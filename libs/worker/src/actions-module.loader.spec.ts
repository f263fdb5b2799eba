import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { ActionsModuleError } from './action.errors';
import { loadActionsModule } from './actions-module.loader';
import { testContext } from './__fixtures__/action-context.fixture';

const fixture = (name: string): string => join(__dirname, '__fixtures__', name);
const call = async (definitions: Awaited<ReturnType<typeof loadActionsModule>>, name: string, input: Record<string, unknown>): Promise<unknown> => {
  const definition = definitions.find((d) => d.name === name);
  if (!definition) throw new Error(`no ${name} in ${definitions.map((d) => d.name).join(', ')}`);
  return definition.handler(input, testContext({ attempt: 2 }));
};

describe('loadActionsModule (CommonJS, in process)', () => {
  it('takes named function exports, the export name being the action name', async () => {
    const definitions = await loadActionsModule(fixture('named.actions.js'));
    expect(definitions.map((d) => d.name).sort()).toEqual(['email.send', 'greet']);
    await expect(call(definitions, 'greet', { name: 'Ada' })).resolves.toEqual({ greeting: 'hello Ada' });
    await expect(call(definitions, 'email.send', { to: 'a@b.c' })).resolves.toEqual({ sent: 'a@b.c', attempt: 2 });
  });

  it('takes an exported actions object of handlers and definitions', async () => {
    const definitions = await loadActionsModule(fixture('map.actions.js'));
    expect(definitions.map((d) => d.name)).toEqual(['email.send', 'math.double']);
    expect(definitions[0]).toMatchObject({ name: 'email.send', description: 'Sends an email', inputSchema: { type: 'object' } });
    await expect(call(definitions, 'math.double', { n: 21 })).resolves.toBe(42);
  });

  it('resolves a relative path against the working directory', async () => {
    const relative = join('.', 'libs', 'worker', 'src', '__fixtures__', 'named.actions.js');
    expect(resolve(relative)).toBe(fixture('named.actions.js'));
    await expect(loadActionsModule(relative)).resolves.toHaveLength(2);
  });

  it.each([
    ['missing.actions.js', 'actions module not found'],
    ['not-a-function.actions.js', '"retries" is not a function'],
    ['empty.actions.js', 'holds no actions'],
    ['syntax-error.actions.js', 'failed to load'],
  ])('explains what is wrong with %s, naming the file', async (name, explanation) => {
    const failure = loadActionsModule(fixture(name));
    await expect(failure).rejects.toBeInstanceOf(ActionsModuleError);
    await expect(failure).rejects.toMatchObject({ code: 'ACTIONS_MODULE_INVALID', file: fixture(name), message: expect.stringContaining(explanation) });
    await expect(failure).rejects.toThrow(fixture(name));
  });

  it('reports an error the module throws while loading, having run it once', async () => {
    const loads = globalThis as { __weftThrowsOnLoad?: number };
    delete loads.__weftThrowsOnLoad;
    await expect(loadActionsModule(fixture('throws-on-load.actions.js'))).rejects.toThrow(/throws-on-load\.actions\.js: failed to load: SMTP_URL is not set/);
    expect(loads.__weftThrowsOnLoad).toBe(1);
  });
});

describe('loadActionsModule (plain Node process, as the CLI runs it)', () => {
  const root = resolve(__dirname, '../../..');
  const runInNode = async (requests: { file: string; call?: { name: string; input: Record<string, unknown> } }[]): Promise<unknown[]> => {
    const script = fixture('load-actions.script.ts');
    const { stdout } = await promisify(execFile)(process.execPath, ['-r', '@swc-node/register', script, JSON.stringify(requests)], {
      cwd: root,
      timeout: 30_000,
    });
    return JSON.parse(stdout) as unknown[];
  };

  it('loads ES modules (.mjs) with a default export map or named exports, and CommonJS alike (Node >= 20.19: require() of ES modules)', async () => {
    const outcomes = await runInNode([
      { file: fixture('default.actions.mjs'), call: { name: 'report.render', input: { title: 'q3' } } },
      { file: fixture('named.actions.mjs'), call: { name: 'shout', input: { text: 'hey' } } },
      { file: fixture('map.actions.js'), call: { name: 'math.double', input: { n: 4 } } },
      { file: fixture('broken-definition.actions.mjs') },
      { file: fixture('throws-on-load.actions.js') },
    ]);
    expect(outcomes).toEqual([
      { names: ['report.render', 'ping'], descriptions: ['Renders a report', null], output: { title: 'Q3' } },
      { names: ['greet', 'shout'], descriptions: [null, null], output: 'HEY' },
      { names: ['email.send', 'math.double'], descriptions: ['Sends an email', null], output: 8 },
      {
        error: {
          name: 'ActionsModuleError',
          code: 'ACTIONS_MODULE_INVALID',
          message: `${fixture('broken-definition.actions.mjs')}: exports: "email.send" is not a function or an action definition ({ handler })`,
        },
      },
      {
        error: {
          name: 'ActionsModuleError',
          code: 'ACTIONS_MODULE_INVALID',
          message: `${fixture('throws-on-load.actions.js')}: failed to load: SMTP_URL is not set`,
        },
      },
    ]);
  }, 30_000);
});
