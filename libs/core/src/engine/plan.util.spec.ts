import { PlanError, planRun, runTimeoutMs } from './plan.util';
import { DURATIONS, workflow } from '../testing';

describe('planRun', () => {
  it('resolves every default', () => {
    expect(planRun(workflow([{ id: 'a', action: 'noop' }]))).toEqual([
      {
        id: 'a',
        needs: [],
        action: 'noop',
        with: {},
        timeoutMs: 600_000,
        retry: { maxAttempts: 1, backoff: 'exponential', initialIntervalMs: 1_000, maxIntervalMs: 60_000, multiplier: 2, jitter: true, nonRetryable: [] },
        queue: 'default',
        onFailure: 'fail-fast',
      },
    ]);
  });

  it.each(DURATIONS)('reads the duration %s', (timeout, ms) => {
    expect(planRun(workflow([{ id: 'a', action: 'x', timeout, retry: { initialInterval: timeout } }]))[0]).toMatchObject({
      timeoutMs: ms,
      retry: { initialIntervalMs: ms },
    });
  });

  it('takes workflow defaults, then step settings over them', () => {
    const [a, b] = planRun(
      workflow(
        [
          { id: 'a', action: 'x' },
          { id: 'b', action: 'y', timeout: '1h30m', queue: 'gpu', onFailure: 'fail-fast', retry: { maxAttempts: 5, backoff: 'fixed', nonRetryable: ['E'] }, if: 'true', with: { k: 1 } },
        ],
        { onFailure: 'continue', defaults: { timeout: '30s', queue: 'io', retry: { maxAttempts: 3, initialInterval: '500ms', maxInterval: '2m', multiplier: 3, jitter: false } } },
      ),
    );
    expect(a).toMatchObject({
      timeoutMs: 30_000,
      queue: 'io',
      onFailure: 'continue',
      retry: { maxAttempts: 3, backoff: 'exponential', initialIntervalMs: 500, maxIntervalMs: 120_000, multiplier: 3, jitter: false },
    });
    expect(a).not.toHaveProperty('if');
    // A step retry policy replaces the default one as a whole; unset fields take the built-in defaults.
    expect(b).toMatchObject({
      timeoutMs: 5_400_000,
      queue: 'gpu',
      onFailure: 'fail-fast',
      if: 'true',
      with: { k: 1 },
      retry: { maxAttempts: 5, backoff: 'fixed', initialIntervalMs: 1_000, maxIntervalMs: 60_000, multiplier: 2, jitter: true, nonRetryable: ['E'] },
    });
  });

  it('orders steps topologically, keeping declaration order among ready steps', () => {
    const plan = planRun(
      workflow([
        { id: 'd', needs: ['b', 'c'], action: 'x' },
        { id: 'c', needs: ['a'], action: 'x' },
        { id: 'a', action: 'x' },
        { id: 'b', needs: ['a', 'a'], action: 'x' },
        { id: 'e', action: 'x' },
      ]),
    );
    expect(plan.map((p) => p.id)).toEqual(['a', 'c', 'b', 'd', 'e']);
    expect(plan.find((p) => p.id === 'b')?.needs).toEqual(['a']);
  });

  it('rejects cycles, unknown needs, duplicate ids and bad durations with PlanError', () => {
    const cases = [
      workflow([{ id: 'a', needs: ['b'], action: 'x' }, { id: 'b', needs: ['a'], action: 'x' }, { id: 'c', action: 'x' }]),
      workflow([{ id: 'a', needs: ['ghost'], action: 'x' }]),
      workflow([{ id: 'a', action: 'x' }, { id: 'a', action: 'y' }]),
      workflow([{ id: 'a', action: 'x', timeout: 'soon' }]),
    ];
    const messages = cases.map((spec) => {
      try {
        planRun(spec);
        return 'planned';
      } catch (error) {
        expect(error).toBeInstanceOf(PlanError);
        expect(error).toHaveProperty('code', 'PLAN_INVALID');
        return (error as Error).message;
      }
    });
    expect(messages).toEqual([
      expect.stringContaining('cycle'),
      expect.stringContaining('ghost'),
      expect.stringContaining('duplicate step id "a"'),
      expect.stringMatching(/^steps\.a\.timeout: .*soon/),
    ]);
  });

  it('reads the whole-run timeout', () => {
    expect(runTimeoutMs(workflow([{ id: 'a', action: 'x' }], { timeout: '15m' }))).toBe(900_000);
    expect(runTimeoutMs(workflow([{ id: 'a', action: 'x' }]))).toBeUndefined();
  });
});
