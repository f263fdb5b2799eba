import { RunDriver, workflow } from '../testing';
import { decide } from './run.machine';

/** Run outputs are stored with the run and published on run.completed: what PostgreSQL or the broker would refuse fails the run (issue 12). */
describe('run outputs PostgreSQL or the broker would refuse', () => {
  it('fails the run with UNSTORABLE_OUTPUT when an output holds a NUL', () => {
    const run = new RunDriver(workflow([{ id: 'a', action: 'work' }], { outputs: { o: "${{ 'x\\u0000y' }}" } }));
    run.start();
    run.run('a');
    expect(run.state.status).toBe('failed');
    expect(run.state.error).toMatchObject({ code: 'UNSTORABLE_OUTPUT', retryable: false });
    expect(run.state.error?.message).toContain('$.o');
    expect(run.state.outputs).toBeUndefined();
  });

  it('fails the run with PAYLOAD_TOO_LARGE when the outputs are over maxPayloadBytes, and keeps them below it', () => {
    const spec = workflow([{ id: 'a', action: 'work' }], { outputs: { o: '${{ steps.a.output.text }}' } });
    const big = new RunDriver(spec);
    big.start();
    big.run('a', { text: 'x'.repeat(1_000_000) });
    expect(big.state.status).toBe('failed');
    expect(big.state.error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });

    const small = new RunDriver(spec);
    small.start();
    small.run('a', { text: 'x'.repeat(1000) });
    expect(small.state.status).toBe('completed');
    // The same decision under a smaller configured bound fails.
    const bounded = new RunDriver(spec);
    bounded.start();
    bounded.started('a');
    const step = bounded.step('a');
    const decided = decide(bounded.state, { type: 'step.completed', at: bounded.at(10), stepId: 'a', attempt: step.attempt, token: step.token ?? '', output: { text: 'x'.repeat(1000) } }, { maxPayloadBytes: 500 });
    expect(decided.state).toMatchObject({ status: 'failed', error: { code: 'PAYLOAD_TOO_LARGE' } });
  });
});
