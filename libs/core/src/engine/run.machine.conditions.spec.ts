import { dispatchedIds, emittedTypes, fatal, RunDriver, workflow } from '../testing';
import { summarize } from './summary.util';

describe('conditions and expressions', () => {
  it('skips a step whose if is false, and cascades to its dependents', () => {
    const run = new RunDriver(
      workflow(
        [
          { id: 'a', action: 'work' },
          { id: 'b', needs: ['a'], action: 'work', if: '${{ steps.a.output.count > 10 }}' },
          { id: 'c', needs: ['b'], action: 'work' },
          { id: 'd', needs: ['a'], action: 'work', if: "steps.a.status == 'completed' && inputs.go" },
        ],
        { outputs: { d: '${{ steps.d.output }}' } },
      ),
      { go: true },
    );
    run.start();
    const commands = run.run('a', { count: 3 });
    // Dependents are checked breadth-first: d (a's) before c (b's).
    expect(emittedTypes(commands)).toEqual(['step.completed:a', 'step.skipped:b', 'step.queued:d', 'step.skipped:c']);
    expect(run.step('b')).toMatchObject({ status: 'skipped', reason: 'condition is false' });
    expect(run.step('c')).toMatchObject({ status: 'skipped', reason: 'upstream skipped: b' });
    run.run('d', 'dd');
    expect(run.state.status).toBe('completed');
    expect(run.state.outputs).toEqual({ d: 'dd' });
    expect(summarize(run.state).counts).toMatchObject({ completed: 2, skipped: 2 });
  });

  it('lets a join with its own if decide about a skipped branch (if/else then join)', () => {
    const run = new RunDriver(
      workflow([
        { id: 'a', action: 'work' },
        { id: 'yes', needs: ['a'], action: 'work', if: 'steps.a.output.go' },
        { id: 'no', needs: ['a'], action: 'work', if: '!steps.a.output.go' },
        { id: 'plain', needs: ['yes', 'no'], action: 'work' },
        { id: 'join', needs: ['yes', 'no'], action: 'work', if: "steps.yes.status == 'completed' || steps.no.status == 'completed'" },
      ]),
    );
    run.start();
    run.run('a', { go: false });
    expect(run.step('yes').status).toBe('skipped');
    // Without an if, a skipped need still skips; the join waits for 'no' to finish.
    expect(run.step('plain')).toMatchObject({ status: 'skipped', reason: 'upstream skipped: yes' });
    expect(run.step('join').status).toBe('pending');
    run.run('no', {});
    expect(run.step('join').status).toBe('queued');
    run.run('join', {});
    expect(run.state.status).toBe('completed');
  });

  it('still skips a join with an if when a need failed under continue', () => {
    const run = new RunDriver(
      workflow(
        [
          { id: 'a', action: 'work' },
          { id: 'join', needs: ['a'], action: 'work', if: 'true' },
        ],
        { onFailure: 'continue' },
      ),
    );
    run.start();
    run.fail('a', fatal);
    expect(run.step('join')).toMatchObject({ status: 'skipped', reason: 'upstream failed: a' });
  });

  it('fails a step with EXPRESSION_ERROR when its if or with cannot be evaluated', () => {
    const run = new RunDriver(
      workflow(
        [
          { id: 'a', action: 'work' },
          { id: 'b', needs: ['a'], action: 'work', if: 'steps.a.output.missing > 1' },
          { id: 'c', needs: ['a'], action: 'work', with: { v: '${{ steps.a.output.nope.deeper }}' } },
          { id: 'd', needs: ['a'], action: 'work', if: 'steps.a.output.n' },
          { id: 'e', needs: ['a'], action: 'work', retry: { maxAttempts: 3 } },
        ],
        { onFailure: 'continue' },
      ),
    );
    run.start();
    run.run('a', { n: 1 });
    for (const id of ['b', 'c', 'd']) {
      expect(run.step(id)).toMatchObject({ status: 'failed', attempt: 0, error: { code: 'EXPRESSION_ERROR', retryable: false } });
    }
    expect(dispatchedIds(run.last)).toEqual(['e']);
  });

  it('renders outputs and fails the run with OUTPUT_ERROR when they cannot be rendered', () => {
    const ok = new RunDriver(workflow([{ id: 'a', action: 'work' }], { outputs: { n: '${{ steps.a.output.n + 1 }}', fixed: 'x', list: ['${{ inputs.k }}'] } }), {
      k: 'v',
    });
    ok.start();
    ok.run('a', { n: 1 });
    expect(ok.state.outputs).toEqual({ n: 2, fixed: 'x', list: ['v'] });

    const bad = new RunDriver(workflow([{ id: 'a', action: 'work' }], { outputs: { n: '${{ steps.a.output.nope }}' } }));
    bad.start();
    const commands = bad.run('a', {});
    expect(bad.state.status).toBe('failed');
    expect(bad.state.error).toMatchObject({ code: 'OUTPUT_ERROR' });
    expect(emittedTypes(commands).at(-1)).toBe('run.failed');
  });
});
