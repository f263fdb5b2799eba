import { ContractError, parseMessage } from './messages';

describe('parseMessage', () => {
  it('accepts a valid dispatch on any queue subject', () => {
    const msg = parseMessage('weft.step.dispatch.io', {
      runId: 'r1', workflow: 'w', stepId: 'a', attempt: 1, token: 't', action: 'noop', input: {}, queue: 'io', timeoutMs: 1000,
    });
    expect(msg.stepId).toBe('a');
  });

  it('names the offending fields of a malformed message', () => {
    expect(() => parseMessage('weft.step.result', { outcome: 'completed', runId: 'r1' })).toThrow(ContractError);
    expect(() => parseMessage('weft.step.result', { outcome: 'completed', runId: 'r1' })).toThrow(/stepId/);
  });
});

describe('weft.step.result', () => {
  const base = { runId: 'r1', stepId: 'a', attempt: 1, token: 'r1:a:1', workerId: 'w' };

  it('carries the worker-side startedAt and finishedAt (epoch ms) of either outcome, or neither', () => {
    expect(parseMessage('weft.step.result', { ...base, outcome: 'completed', output: 1, startedAt: 1000, finishedAt: 1002 })).toMatchObject({ startedAt: 1000, finishedAt: 1002 });
    const error = { code: 'E', message: 'boom' };
    expect(parseMessage('weft.step.result', { ...base, outcome: 'failed', error, startedAt: 1000 })).toMatchObject({ startedAt: 1000 });
    expect(parseMessage('weft.step.result', { ...base, outcome: 'completed', output: null })).not.toHaveProperty('startedAt');
  });

  it('rejects a startedAt that is not a number', () => {
    expect(() => parseMessage('weft.step.result', { ...base, outcome: 'completed', output: 1, startedAt: '2026-01-01T00:00:00Z' })).toThrow(/startedAt/);
  });
});

describe('weft.worker.announce', () => {
  it('accepts an announcement with actions and their input schemas', () => {
    const msg = parseMessage('weft.worker.announce', {
      workerId: 'w1',
      queues: ['default'],
      actions: [{ name: 'email.send', description: 'Sends mail', inputSchema: { type: 'object' } }, { name: 'noop' }],
      intervalMs: 15_000,
      at: '2026-01-01T00:00:00.000Z',
    });
    expect(msg.actions.map((a) => a.name)).toEqual(['email.send', 'noop']);
  });

  it('rejects one without a worker id or interval', () => {
    expect(() => parseMessage('weft.worker.announce', { queues: [], actions: [], at: 'x' })).toThrow(/workerId[\s\S]*intervalMs/);
  });
});
