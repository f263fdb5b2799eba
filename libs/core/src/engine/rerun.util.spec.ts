import type { StepSpec } from '../workflow-spec/spec.schema';
import { createRun, decide } from './run.machine';
import { RerunError, rerunPlan } from './rerun.util';
import { dispatchedIds, emitted, emittedTypes, RunDriver, workflow } from '../testing';
import { summarize } from './summary.util';

const diamond = (): StepSpec[] => [
  { id: 'a', action: 'noop' },
  { id: 'b', needs: ['a'], action: 'work', with: { n: '${{ steps.a.output.x + 1 }}' } },
  { id: 'c', needs: ['a'], action: 'work' },
  { id: 'd', needs: ['b', 'c'], action: 'work', with: { sum: '${{ steps.b.output.v + steps.c.output.v }}' } },
];

/** A diamond run that finished: a, b, c completed, d failed. */
function finishedRun() {
  const run = new RunDriver(workflow(diamond(), { outputs: { sum: '${{ steps.d.output.total }}' } }));
  run.start();
  run.run('a', { x: 41 });
  run.run('b', { v: 2 });
  run.run('c', { v: 3 });
  run.started('d');
  run.fail('d', { code: 'BOOM', message: 'broke', retryable: false });
  expect(run.state.status).toBe('failed');
  return run.state;
}

describe('rerunPlan', () => {
  it('reuses everything not downstream of the step, and reruns the step and its dependents', () => {
    const previous = finishedRun();
    expect(rerunPlan(previous.spec, previous, 'b')).toEqual({ reuse: { a: { output: { x: 41 } }, c: { output: { v: 3 } } }, rerun: ['b', 'd'] });
    expect(rerunPlan(previous.spec, previous, 'd')).toEqual({
      reuse: { a: { output: { x: 41 } }, b: { output: { v: 2 } }, c: { output: { v: 3 } } },
      rerun: ['d'],
    });
    expect(rerunPlan(previous.spec, previous, 'a').reuse).toEqual({});
  });

  it('reruns everything without a step', () => {
    const previous = finishedRun();
    expect(rerunPlan(previous.spec, previous)).toEqual({ reuse: {}, rerun: ['a', 'b', 'c', 'd'] });
  });

  it('never reuses a step that did not complete, nor one whose need runs again', () => {
    const run = new RunDriver(workflow(diamond()));
    run.start();
    run.run('a', { x: 1 });
    run.fail('c', { code: 'BOOM', message: 'broke', retryable: false });
    // b was canceled by fail-fast; c failed: only a is reusable.
    expect(rerunPlan(run.state.spec, run.state, 'd')).toEqual({ reuse: { a: { output: { x: 1 } } }, rerun: ['b', 'c', 'd'] });
  });

  it('plans against a newer spec: new steps run, removed ones are gone', () => {
    const previous = finishedRun();
    const newer = workflow([...diamond(), { id: 'e', needs: ['a'], action: 'work' }].filter((s) => s.id !== 'c').map((s) => (s.id === 'd' ? { ...s, needs: ['b'] } : s)));
    expect(rerunPlan(newer, previous, 'd')).toEqual({ reuse: { a: { output: { x: 41 } }, b: { output: { v: 2 } } }, rerun: ['d', 'e'] });
  });

  it('rejects a step the workflow does not have', () => {
    const previous = finishedRun();
    expect(() => rerunPlan(previous.spec, previous, 'nope')).toThrow(RerunError);
    expect(() => rerunPlan(previous.spec, previous, 'nope')).toThrow(/step "nope" is not in workflow test-flow; steps are: a, b, c, d/);
  });
});

describe('createRun with reused steps', () => {
  it('starts reused steps completed, emits them once, and runs only the rest with their outputs in scope', () => {
    const previous = finishedRun();
    const { reuse } = rerunPlan(previous.spec, previous, 'd');
    const created = createRun({ runId: 'r2', spec: previous.spec, version: 'v1', inputs: {}, at: 2_000_000, reuse: { runId: previous.runId, steps: reuse } });
    expect(emittedTypes(created.commands)).toEqual(['run.queued', 'step.completed:a', 'step.completed:b', 'step.completed:c']);
    expect(emitted(created.commands)[0].data).toMatchObject({ rerunOf: 'r1', reused: ['a', 'b', 'c'] });
    expect(emitted(created.commands)[1].data).toEqual({ output: { x: 41 }, reused: true, reusedFrom: 'r1' });
    expect(created.state.steps.b).toMatchObject({ status: 'completed', attempt: 0, attempts: [], output: { v: 2 }, reusedFrom: 'r1', finishedAt: 2_000_000 });
    expect(created.state.steps.d).toMatchObject({ status: 'pending', attempt: 0 });

    const started = decide(created.state, { type: 'run.start', at: 2_000_001 });
    expect(dispatchedIds(started.commands)).toEqual(['d']);
    const dispatch = started.commands.find((c) => c.type === 'dispatch');
    expect(dispatch).toMatchObject({ input: { sum: 5 } });
    const token = started.state.steps.d.token ?? '';
    const done = decide(started.state, { type: 'step.completed', at: 2_000_010, stepId: 'd', attempt: 1, token, output: { total: 99 } });
    expect(done.state.status).toBe('completed');
    expect(done.state.outputs).toEqual({ sum: 99 });
    expect(summarize(done.state).steps.map((s) => [s.id, s.attempts])).toEqual([
      ['a', 0],
      ['b', 0],
      ['c', 0],
      ['d', 1],
    ]);
  });

  it('completes at once when every step is reused', () => {
    const previous = finishedRun();
    const reuse = { a: { output: 1 }, b: { output: 2 }, c: { output: 3 }, d: { output: { total: 7 } } };
    const created = createRun({ runId: 'r3', spec: previous.spec, version: 'v1', inputs: {}, at: 10, reuse: { runId: 'r1', steps: reuse } });
    const started = decide(created.state, { type: 'run.start', at: 11 });
    expect(started.state.status).toBe('completed');
    expect(started.state.outputs).toEqual({ sum: 7 });
    expect(dispatchedIds(started.commands)).toEqual([]);
  });

  it('rejects reusing a step that is not in the workflow', () => {
    expect(() => createRun({ runId: 'r4', spec: workflow(diamond()), version: 'v1', inputs: {}, at: 1, reuse: { runId: 'r1', steps: { zz: {} } } })).toThrow(
      /cannot reuse step\(s\) zz/,
    );
  });

  it('keeps a step without output free of an output field', () => {
    const created = createRun({ runId: 'r5', spec: workflow(diamond()), version: 'v1', inputs: {}, at: 1, reuse: { runId: 'r1', steps: { a: {} } } });
    expect(Object.hasOwn(created.state.steps.a, 'output')).toBe(false);
    expect(created.state.steps.a.status).toBe('completed');
  });
});
