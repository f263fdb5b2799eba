import { commandsOf, deepFreeze, emittedTypes, RunDriver, workflow } from '../testing';
import { validateSpec } from '../workflow-spec';
import { childRunId, childRuns } from './child-run.util';
import { createRun, decide } from './run.machine';
import { explainRun } from './why.util';


const parentSpec = workflow(
  [
    { id: 'call', action: 'workflow', with: { workflow: 'child', version: 2, inputs: { n: '${{ inputs.n }}' } } },
    { id: 'after', needs: ['call'], action: 'noop', with: { got: '${{ steps.call.output.total }}' } },
  ],
  { inputs: { n: { type: 'number' } } },
);

describe('sub-workflows (action: workflow)', () => {
  it('starts the child as a waiting step (no dispatch), idempotent by the attempt token, and completes with its outputs', () => {
    const d = new RunDriver(parentSpec, { n: 3 });
    const started = d.start();
    expect(commandsOf(started, 'dispatch')).toEqual([]);
    const token = 'r1:call:1';
    expect(commandsOf(started, 'start-child')).toEqual([
      { type: 'start-child', stepId: 'call', attempt: 1, token, childRunId: childRunId(token), workflow: 'child', version: '2', inputs: { n: 3 }, depth: 1 },
    ]);
    expect(emittedTypes(started)).toEqual(['run.started', 'step.waiting:call', 'run.waiting']);
    expect(d.step('call')).toMatchObject({ status: 'waiting', wait: { kind: 'child', childRunId: childRunId(token), workflow: 'child' } });
    expect(childRuns(d.state)).toEqual([{ stepId: 'call', attempt: 1, runId: childRunId(token) }]);
    expect(explainRun(d.state, { now: d.at() }).steps[0]).toMatchObject({ stepId: 'call', reason: { kind: 'child', runId: childRunId(token), workflow: 'child' } });

    // The child's end arrives as the attempt's result; a stale token or a repeat changes nothing.
    const frozen = deepFreeze(d.state);
    expect(decide(frozen, { type: 'step.completed', at: d.at(5), stepId: 'call', attempt: 1, token: 'r1:call:0', output: {} })).toEqual({ state: frozen, commands: [] });
    const ended = d.complete('call', { total: 6 });
    expect(d.step('call')).toMatchObject({ status: 'completed', output: { total: 6 } });
    expect(commandsOf(ended, 'dispatch').map((c) => c.input)).toEqual([{ got: 6 }]);
    expect(d.apply({ type: 'step.completed', at: d.at(5), stepId: 'call', attempt: 1, token, output: { total: 7 } })).toEqual([]);
  });

  it("fails the step with the child's failure (not retried) and the run with it", () => {
    const d = new RunDriver(parentSpec, { n: 1 });
    d.start();
    const error = { code: 'CHILD_FAILED', message: 'child run x (child) failed: BOOM it broke', retryable: true };
    d.apply({ type: 'step.failed', at: d.at(5), stepId: 'call', attempt: 1, token: 'r1:call:1', error });
    expect(d.step('call')).toMatchObject({ status: 'failed', error: { code: 'CHILD_FAILED', retryable: false } });
    expect(d.state.status).toBe('failed');
  });

  it('canceling the parent cancels the child; the child end that follows changes nothing (cancel wins)', () => {
    const d = new RunDriver(parentSpec, { n: 1 });
    d.start();
    const canceled = d.apply({ type: 'run.cancel', at: d.at(5), reason: 'stop' });
    expect(commandsOf(canceled, 'cancel-child')).toEqual([{ type: 'cancel-child', stepId: 'call', childRunId: childRunId('r1:call:1'), reason: 'parent run r1 canceled step call' }]);
    expect(d.state.status).toBe('canceled');
    expect(d.apply({ type: 'step.completed', at: d.at(5), stepId: 'call', attempt: 1, token: 'r1:call:1', output: {} })).toEqual([]);
  });

  it('a child run reports its end to the parent: completed with outputs, otherwise CHILD_FAILED with its error', () => {
    const child = workflow([{ id: 'a', action: 'noop' }], { name: 'child', outputs: { total: '${{ 6 }}' } });
    const parent = { runId: 'p1', stepId: 'call', attempt: 1, token: 'p1:call:1' };
    const created = createRun({ runId: 'c1', spec: child, version: '2', inputs: {}, at: 1_000, parent: { ...parent, depth: 1 } });
    expect(created.state).toMatchObject({ parent, depth: 1 });
    let state = decide(created.state, { type: 'run.start', at: 1_001 }).state;
    const token = state.steps['a']?.token ?? '';
    const done = decide(state, { type: 'step.completed', at: 1_002, stepId: 'a', attempt: 1, token, output: {} });
    expect(commandsOf(done.commands, 'notify-parent')).toEqual([{ type: 'notify-parent', parent, status: 'completed', outputs: { total: 6 } }]);

    state = decide(created.state, { type: 'run.start', at: 1_001 }).state;
    const failed = decide(state, { type: 'step.failed', at: 1_002, stepId: 'a', attempt: 1, token, error: { code: 'BOOM', message: 'it broke', retryable: false } });
    expect(commandsOf(failed.commands, 'notify-parent')).toEqual([
      { type: 'notify-parent', parent, status: 'failed', error: { code: 'CHILD_FAILED', message: 'child run c1 (child) failed: BOOM step a failed: it broke', retryable: false } },
    ]);
  });

  it('refuses a child deeper than maxRunDepth (RUN_DEPTH_EXCEEDED), before any child is started', () => {
    const created = createRun({ runId: 'deep', spec: parentSpec, version: '1', inputs: { n: 1 }, at: 1_000, parent: { runId: 'p', stepId: 's', attempt: 1, token: 'p:s:1', depth: 3 } });
    const started = decide(created.state, { type: 'run.start', at: 1_001 }, { maxRunDepth: 3 });
    expect(commandsOf(started.commands, 'start-child')).toEqual([]);
    expect(started.state.steps['call']).toMatchObject({ status: 'failed', error: { code: 'RUN_DEPTH_EXCEEDED' } });
    expect(childRuns(started.state)).toEqual([]);
  });

  it('a with that names no workflow fails the step with INVALID_WAIT', () => {
    const d = new RunDriver(workflow([{ id: 'call', action: 'workflow', with: { workflow: '${{ inputs.name }}' } }], { inputs: { name: { type: 'string' } } }), { name: '' });
    d.start();
    expect(d.step('call')).toMatchObject({ status: 'failed', error: { code: 'INVALID_WAIT' } });
  });

  it('validation refuses a workflow that runs itself without an if, and accepts one with an if', () => {
    const self = workflow([{ id: 'again', action: 'workflow', with: { workflow: 'loop' } }], { name: 'loop' });
    expect(validateSpec(self).filter((x) => x.severity === 'error').map((x) => [x.code, x.path])).toEqual([['UNBOUNDED_RECURSION', 'steps[0].with.workflow']]);
    const bounded = workflow([{ id: 'again', action: 'workflow', if: '${{ inputs.n > 0 }}', with: { workflow: 'loop', inputs: { n: '${{ inputs.n - 1 }}' } } }], {
      name: 'loop',
      inputs: { n: { type: 'number' } },
    });
    expect(validateSpec(bounded).filter((x) => x.severity === 'error')).toEqual([]);
    expect(validateSpec(workflow([{ id: 'c', action: 'workflow', with: { workflow: 'other', extra: 1 } }])).filter((x) => x.severity === 'error').map((x) => x.code)).toEqual(['UNKNOWN_FIELD']);
  });
});
