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
