import { ActionError, InvalidInputError } from '../action.errors';
import { recordingLogger, testContext } from '../__fixtures__/action-context.fixture';
import { BUILTIN_ACTION_NAMES, builtinActions } from './builtin.actions';
import { failAction } from './fail.action';
import { logAction } from './log.action';
import { noopAction } from './noop.action';
import { sleepAction } from './sleep.action';
import { transformAction } from './transform.action';

const run = (handler: typeof noopAction.handler, input: Record<string, unknown>, ctx = testContext()): Promise<unknown> =>
  new Promise((resolve) => resolve(handler(input, ctx)));

describe('builtinActions', () => {
  it('serves the fixed public names, each with a description and an object input schema', () => {
    const actions = builtinActions();
    expect(actions.map((a) => a.name)).toEqual([...BUILTIN_ACTION_NAMES]);
    for (const action of actions) {
      expect(action.description).toEqual(expect.any(String));
      expect(action.inputSchema).toMatchObject({ type: 'object' });
    }
  });
});

describe('noop', () => {
  it('outputs its input', async () => {
    await expect(run(noopAction.handler, { a: 1, b: ['x'] })).resolves.toEqual({ a: 1, b: ['x'] });
  });
});

describe('sleep', () => {
  it('waits for the duration and reports it', async () => {
    const started = Date.now();
    await expect(run(sleepAction.handler, { duration: '30ms' })).resolves.toEqual({ sleptMs: 30 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
  });

  it('stops as soon as the signal fires, with the signal reason', async () => {
    const controller = new AbortController();
    const reason = new ActionError('CANCELED', 'stop');
    const sleeping = run(sleepAction.handler, { duration: '1m' }, testContext({ signal: controller.signal }));
    setImmediate(() => controller.abort(reason));
    await expect(sleeping).rejects.toBe(reason);
  });

  it('rejects a malformed duration as non-retryable invalid input', async () => {
    const failure = run(sleepAction.handler, { duration: 'soon' });
    await expect(failure).rejects.toBeInstanceOf(InvalidInputError);
    await expect(failure).rejects.toMatchObject({ code: 'INVALID_INPUT', retryable: false });
  });
});

describe('fail', () => {
  it('fails retryably with code FAILED by default', async () => {
    await expect(run(failAction.handler, {})).rejects.toMatchObject({ code: 'FAILED', retryable: true, message: 'failed on purpose' });
  });

  it('uses the given message, code and retryability', async () => {
    await expect(run(failAction.handler, { message: 'boom', code: 'E_BOOM', retryable: false })).rejects.toMatchObject({
      code: 'E_BOOM',
      message: 'boom',
      retryable: false,
    });
  });

  it('with untilAttempt fails below that attempt and then succeeds with { attempt }', async () => {
    const attempt = (n: number) => run(failAction.handler, { untilAttempt: 3 }, testContext({ attempt: n }));
    await expect(attempt(1)).rejects.toMatchObject({ code: 'FAILED' });
    await expect(attempt(2)).rejects.toMatchObject({ code: 'FAILED' });
    await expect(attempt(3)).resolves.toEqual({ attempt: 3 });
    await expect(attempt(4)).resolves.toEqual({ attempt: 4 });
  });

  it('rejects an untilAttempt that is not a positive integer', async () => {
    await expect(run(failAction.handler, { untilAttempt: 'two' })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});

describe('transform', () => {
  it('outputs the value the scheduler evaluated', async () => {
    await expect(run(transformAction.handler, { expr: 'inputs.xs.map(x, x * 2)', value: [2, 4] })).resolves.toEqual([2, 4]);
    await expect(run(transformAction.handler, { value: false })).resolves.toBe(false);
    await expect(run(transformAction.handler, {})).resolves.toBeNull();
  });
});

describe('log', () => {
  it('writes through ctx.logger at the given level', async () => {
    const logger = recordingLogger();
    await expect(run(logAction.handler, { message: 'hello', level: 'warn', fields: { n: 1 } }, testContext({ logger }))).resolves.toEqual({ logged: true });
    expect(logger.entries).toEqual([{ level: 'warn', message: 'hello', fields: { n: 1 } }]);
  });

  it('defaults to info and logs non-strings as JSON', async () => {
    const logger = recordingLogger();
    await run(logAction.handler, { message: { rows: 3 } }, testContext({ logger }));
    expect(logger.entries).toEqual([{ level: 'info', message: '{"rows":3}', fields: undefined }]);
  });

  it('rejects an unknown level and a missing message', async () => {
    await expect(run(logAction.handler, { message: 'x', level: 'loud' })).rejects.toMatchObject({ code: 'INVALID_INPUT', retryable: false });
    await expect(run(logAction.handler, {})).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});
