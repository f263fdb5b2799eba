import { dispatches, emitted, RunDriver, workflow } from '../testing';
import { validateSpec } from '../workflow-spec';
import { decide } from './run.machine';
import { FOR_EACH_ERROR_CODES, itemId } from './for-each.util';

const fanOut = (extra: Record<string, unknown> = {}) =>
  workflow(
    [
      { id: 'list', action: 'work' },
      { id: 'each', needs: ['list'], action: 'work', forEach: '${{ steps.list.output.files }}', concurrency: 2, with: { file: '${{ item.name }}', n: '${{ index }}' }, ...extra },
      { id: 'after', needs: ['each'], action: 'work', with: { all: '${{ steps.each.output }}' } },
    ],
    { outputs: { names: '${{ steps.each.output }}' } },
  );

const files = (n: number) => ({ files: Array.from({ length: n }, (_, i) => ({ name: `f${i}` })) });

describe('forEach', () => {
  it('runs one attempt-tracked item per element, at most concurrency at a time, and outputs them in order', () => {
    const d = new RunDriver(fanOut());
    d.start();
    const first = d.run('list', files(5));
    expect(dispatches(first).map((c) => [c.stepId, c.input])).toEqual([
      ['each[0]', { file: 'f0', n: 0 }],
      ['each[1]', { file: 'f1', n: 1 }],
    ]);
    expect(d.step('each')).toMatchObject({ status: 'running', forEach: { total: 5, concurrency: 2, started: 2 } });
    // Completed out of order: the output still follows the list's order.
    expect(dispatches(d.run('each[1]', 'o1')).map((c) => c.stepId)).toEqual(['each[2]']);
    expect(dispatches(d.run('each[0]', 'o0')).map((c) => c.stepId)).toEqual(['each[3]']);
    d.run('each[3]', 'o3');
    d.run('each[2]', 'o2');
    const last = d.run('each[4]', 'o4');
    expect(d.step('each')).toMatchObject({ status: 'completed', output: ['o0', 'o1', 'o2', 'o3', 'o4'] });
    expect(dispatches(last)[0]).toMatchObject({ stepId: 'after', input: { all: ['o0', 'o1', 'o2', 'o3', 'o4'] } });
    d.run('after');
    expect(d.state).toMatchObject({ status: 'completed', outputs: { names: ['o0', 'o1', 'o2', 'o3', 'o4'] } });
  });

  it('completes at once over an empty list', () => {
    const d = new RunDriver(fanOut());
    d.start();
    d.run('list', files(0));
    expect(d.step('each')).toMatchObject({ status: 'completed', output: [] });
  });

  it('retries and times out per item', () => {
    const d = new RunDriver(fanOut({ retry: { maxAttempts: 2, initialInterval: '1s', jitter: false } }));
    d.start();
    d.run('list', files(2));
    d.started('each[0]');
    d.fail('each[0]', { code: 'BOOM', message: 'x' });
    expect(d.step('each[0]')).toMatchObject({ status: 'retrying' });
    const retried = d.apply({ type: 'timer.fired', at: d.at(2000), timer: 'retry', stepId: 'each[0]', attempt: 1 });
    expect(dispatches(retried)).toEqual([expect.objectContaining({ stepId: 'each[0]', attempt: 2, token: 'r1:each[0]:2' })]);
    d.started('each[1]');
    const timedOut = d.apply({ type: 'timer.fired', at: d.at(600_001), timer: 'step-timeout', stepId: 'each[1]', attempt: 1 });
    expect(emitted(timedOut).map((e) => e.type)).toContain('step.timed_out');
    expect(d.step('each')).toMatchObject({ status: 'running' });
  });

  it('fail-fast: a failed item cancels the others and fails the step and the run', () => {
    const d = new RunDriver(fanOut());
    d.start();
    d.run('list', files(4));
    d.started('each[0]');
    const cmds = d.fail('each[1]', { code: 'BOOM', message: 'bad file' });
    expect(cmds).toContainEqual(expect.objectContaining({ type: 'abort-step', stepId: 'each[0]' }));
    expect(dispatches(cmds)).toEqual([]);
    expect(d.step('each')).toMatchObject({ status: 'failed', error: { code: 'BOOM', message: 'item 1 failed: bad file' } });
    expect(d.step('each[2]').status).toBe('canceled');
    expect(d.state.status).toBe('failed');
    // A late result of a canceled item changes nothing.
    const late = decide(d.state, { type: 'step.completed', at: d.at(5), stepId: 'each[0]', attempt: 1, token: 'r1:each[0]:1', output: 1 });
    expect(late.commands).toEqual([]);
  });

  it('continue: the others finish and the step ends partially_completed with each item status', () => {
    const d = new RunDriver(fanOut({ onFailure: 'continue' }));
    d.start();
    d.run('list', files(3));
    d.fail('each[0]', { code: 'BOOM', message: 'bad' });
    d.run('each[1]', 'o1');
    const last = d.run('each[2]', 'o2');
    expect(d.step('each')).toMatchObject({ status: 'partially_completed', output: [null, 'o1', 'o2'], error: { code: FOR_EACH_ERROR_CODES.itemsFailed } });
    expect(d.step('each[0]').status).toBe('failed');
    expect(emitted(last)).toContainEqual(expect.objectContaining({ type: 'step.completed', stepId: 'each', status: 'partially_completed' }));
    // Its dependents run on the partial output; the run ends partially_completed.
    d.run('after');
    expect(d.state.status).toBe('partially_completed');
  });

  it('refuses a list longer than the limit and a value that is not a list', () => {
    const d = new RunDriver(fanOut());
    d.start();
    d.started('list');
    const s = d.step('list');
    const over = decide(d.state, { type: 'step.completed', at: d.at(5), stepId: 'list', attempt: s.attempt, token: s.token ?? '', output: files(4) }, { maxForEachItems: 3 });
    expect(over.state.steps['each']).toMatchObject({ status: 'failed', error: { code: FOR_EACH_ERROR_CODES.tooMany } });
    expect(over.state.steps['each']?.error?.message).toMatch(/4 items; at most 3 .*WEFT_MAX_FOREACH_ITEMS/);
    const notList = decide(d.state, { type: 'step.completed', at: d.at(5), stepId: 'list', attempt: s.attempt, token: s.token ?? '', output: { files: 'x' } });
    expect(notList.state.steps['each']).toMatchObject({ status: 'failed', error: { code: FOR_EACH_ERROR_CODES.notAList } });
  });

  it('ignores results addressed to the forEach step itself and cancels items with the run', () => {
    const d = new RunDriver(fanOut());
    d.start();
    d.run('list', files(3));
    const forged = decide(d.state, { type: 'step.completed', at: d.at(5), stepId: 'each', attempt: 1, token: 'r1:each:1', output: 'x' });
    expect(forged.commands).toEqual([]);
    const lost = decide(d.state, { type: 'step.lost', at: d.at(5), stepId: 'each', attempt: 1 });
    expect(lost.commands).toEqual([]);
    d.started('each[0]');
    const cmds = d.apply({ type: 'run.cancel', at: d.at(5) });
    expect(cmds.some((c) => c.type === 'abort-step')).toBe(false);
    expect(cmds.flatMap((c) => (c.type === 'abort-run' ? c.steps.map((s) => s.stepId) : []))).toEqual(['each[0]', 'each[1]']);
    expect([0, 1, 2].map((i) => d.step(itemId('each', i)).status)).toEqual(['canceled', 'canceled', 'canceled']);
    expect(d.state.status).toBe('canceled');
  });

  it('re-dispatches an item whose worker was lost, outside its retry budget', () => {
    const d = new RunDriver(fanOut());
    d.start();
    d.run('list', files(1));
    d.started('each[0]');
    const cmds = d.apply({ type: 'step.lost', at: d.at(5), stepId: 'each[0]', attempt: 1 });
    expect(dispatches(cmds)).toEqual([expect.objectContaining({ stepId: 'each[0]', attempt: 2 })]);
  });

  it('a transform runs its expression per item', () => {
    const d = new RunDriver(workflow([{ id: 't', action: 'transform', forEach: '[1, 2, 3]', with: { expr: 'item * 10 + index' } }]));
    d.start();
    expect(dispatches(d.last).map((c) => c.input)).toEqual([{ value: 10 }, { value: 21 }, { value: 32 }]);
  });
});

describe('forEach validation', () => {
  const problems = (steps: Parameters<typeof workflow>[0]) => validateSpec(workflow(steps)).map((d) => `${d.path}: ${d.message}`);

  it('accepts item and index in with, and checks the list expression', () => {
    expect(problems([{ id: 'a', action: 'work' }, { id: 'b', needs: ['a'], action: 'work', forEach: 'steps.a.output.files', concurrency: 5, with: { f: '${{ item.name }}', i: '${{ index + 1 }}' } }])).toEqual([]);
    expect(problems([{ id: 'b', action: 'work', forEach: 'steps.nope.output', with: { f: '${{ item }}' } }]).join('\n')).toMatch(/steps\[0\].forEach: unknown step "nope"/);
  });

  it('refuses item outside a forEach, concurrency without one, waits and reviews per item', () => {
    expect(problems([{ id: 'b', action: 'work', with: { f: '${{ item }}' } }]).join('\n')).toMatch(/item/);
    expect(problems([{ id: 'b', action: 'work', concurrency: 3 }]).join('\n')).toMatch(/steps\[0\].concurrency: .*no forEach/);
    expect(problems([{ id: 'b', action: 'sleep', forEach: '[1]', with: { duration: '1s' } }]).join('\n')).toMatch(/sleep cannot run per item/);
    expect(problems([{ id: 'b', action: 'work', forEach: '[1]', review: {} }]).join('\n')).toMatch(/cannot be reviewed per item/);
  });
});
