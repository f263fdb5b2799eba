import type { StepSpec } from '../workflow-spec/spec.schema';
import { boom, dispatchedIds, RunDriver, workflow } from '../testing';

// drain checks a fan-in's needs from the last one while no step of the run failed, was skipped or
// was canceled (then only an unfinished need matters); once one did, every need as before.
const fan = (width: number, join: Partial<StepSpec> = {}): StepSpec[] => [
  { id: 'root', action: 'work' },
  ...Array.from({ length: width }, (_, i): StepSpec => ({ id: `m${i}`, needs: ['root'], action: 'work' })),
  { id: 'join', needs: Array.from({ length: width }, (_, i) => `m${i}`), action: 'work', ...join },
];

describe('a fan-in step is checked as its needs end', () => {
  it('goes once the last of its needs completes, in whatever order they do', () => {
    const run = new RunDriver(workflow(fan(5)));
    run.start();
    run.run('root');
    for (const id of ['m4', 'm0', 'm3', 'm1']) expect(dispatchedIds(run.run(id))).toEqual([]);
    expect(dispatchedIds(run.run('m2'))).toEqual(['join']);
  });

  it('is skipped, naming the failed need, when its last branch fails after the others completed', () => {
    const run = new RunDriver(workflow(fan(4), { onFailure: 'continue' }));
    run.start();
    run.run('root');
    for (const id of ['m0', 'm1', 'm2']) run.run(id);
    run.started('m3');
    run.fail('m3', { ...boom, retryable: false });
    expect(run.step('join')).toMatchObject({ status: 'skipped', reason: 'upstream failed: m3' });
    expect(run.state.status).toBe('partially_completed');
  });

  it('waits for the rest after an early failure, then is skipped naming it', () => {
    const run = new RunDriver(workflow(fan(3), { onFailure: 'continue' }));
    run.start();
    run.run('root');
    run.started('m0');
    run.fail('m0', { ...boom, retryable: false });
    expect(run.step('join')).toMatchObject({ status: 'skipped', reason: 'upstream failed: m0' });
  });

  it('with its own if, goes after a skipped need', () => {
    const run = new RunDriver(
      workflow([
        { id: 'a', action: 'work' },
        { id: 'b', action: 'work', if: 'false' },
        { id: 'join', needs: ['a', 'b'], action: 'work', if: 'true' },
      ]),
    );
    run.start();
    expect(run.step('b').status).toBe('skipped');
    expect(dispatchedIds(run.run('a'))).toEqual(['join']);
  });
});
