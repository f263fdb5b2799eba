import { dispatchedIds, RunDriver, workflow } from '../testing';

/** A step's `if` or `with` past the expression budget fails that step, and the run still moves on (issue 12). */
describe('expressions past their budget', () => {
  const xs = Array.from({ length: 10_000 }, (_, i) => i);
  const heavy = 'inputs.xs.all(a, inputs.xs.all(b, a + b >= 0))';

  it('fails the step with EXPRESSION_BUDGET under onFailure: continue, dispatches the rest and ends the run', () => {
    const run = new RunDriver(
      workflow(
        [
          { id: 'a', action: 'work' },
          { id: 'cond', needs: ['a'], action: 'work', if: heavy },
          { id: 'input', needs: ['a'], action: 'work', with: { all: `\${{ ${heavy} }}` } },
          { id: 'shape', needs: ['a'], action: 'transform', with: { expr: heavy } },
          { id: 'fine', needs: ['a'], action: 'work' },
        ],
        { onFailure: 'continue' },
      ),
      { xs },
    );
    run.start();
    run.run('a');
    for (const id of ['cond', 'input', 'shape']) {
      expect(run.step(id)).toMatchObject({ status: 'failed', attempt: 0, error: { code: 'EXPRESSION_BUDGET', retryable: false } });
    }
    expect(dispatchedIds(run.last)).toEqual(['fine']);
    run.run('fine');
    expect(run.state.status).toBe('partially_completed');
  });

  it('fails a fail-fast run at once', () => {
    const run = new RunDriver(workflow([{ id: 'only', action: 'work', if: "'aaaaaaaaaaaaaaaaaaaaaaaaaaa!'.matches('^(a+)+$') || " + heavy }]), { xs });
    run.start();
    expect(run.step('only')).toMatchObject({ status: 'failed', error: { code: 'EXPRESSION_BUDGET' } });
    expect(run.state.status).toBe('failed');
  });
});
