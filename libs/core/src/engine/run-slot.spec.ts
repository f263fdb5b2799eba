import { commandsOf, RunDriver, workflow } from '../testing';
import { parseWorkflow } from '../workflow-spec';
import { RUN_SLOT_STEP } from './run-slot.util';
import { explainRun } from './why.util';


const limited = {
  ...workflow([{ id: 'a', action: 'work' }], { name: 'sync', inputs: { customer: { type: 'string' } } }),
  concurrency: { limit: 2, key: '${{ inputs.customer }}', strategy: 'cancel-newest' as const },
};

describe('a workflow concurrency limit (concurrency on the workflow)', () => {
  it('a run stays queued until it holds a slot of its key, then starts; its end gives the slot back once', () => {
    const d = new RunDriver(limited, { customer: 'acme' });
    const started = d.start();
    expect(commandsOf(started, 'dispatch')).toEqual([]);
    expect(commandsOf(started, 'acquire-slot')).toEqual([
      { type: 'acquire-slot', stepId: RUN_SLOT_STEP, token: 'r1:$run:1', scope: 'sync', key: 'acme', limit: 2, priority: 3, strategy: 'cancel-newest' },
    ]);
    expect(d.state.status).toBe('queued');
    expect(d.state.startedAt).toBeUndefined();
    expect(explainRun(d.state, { now: d.at(), slotHolders: () => [{ runId: 'r0', stepId: RUN_SLOT_STEP, since: 5 }] }).steps[0]?.text).toBe(
      'the run waits for a concurrency slot of its workflow, key "acme" (limit 2): held by r0 since 1970-01-01T00:00:00.005Z',
    );
    // A second start, or a grant for another request, changes nothing.
    expect(d.start()).toEqual([]);
    expect(d.apply({ type: 'slot.granted', at: d.at(1), stepId: RUN_SLOT_STEP, token: 'r1:$run:9' })).toEqual([]);

    const granted = d.apply({ type: 'slot.granted', at: d.at(5), stepId: RUN_SLOT_STEP, token: 'r1:$run:1' });
    expect(commandsOf(granted, 'dispatch').map((c) => c.stepId)).toEqual(['a']);
    expect(d.state).toMatchObject({ status: 'running', startedAt: d.at(), slot: { token: 'r1:$run:1', scope: 'sync', key: 'acme' } });
    expect(d.apply({ type: 'slot.granted', at: d.at(1), stepId: RUN_SLOT_STEP, token: 'r1:$run:1' })).toEqual([]);
    const done = d.run('a');
    expect(d.state.status).toBe('completed');
    expect(commandsOf(done, 'release-slot')).toEqual([{ type: 'release-slot', stepId: RUN_SLOT_STEP, token: 'r1:$run:1', scope: 'sync', key: 'acme' }]);
    expect(commandsOf(d.history, 'release-slot')).toHaveLength(1);
  });

  it('a run canceled while queued gives its place back; a retried run queues for a slot again before it runs', () => {
    const d = new RunDriver(limited, { customer: 'acme' });
    d.start();
    const canceled = d.apply({ type: 'run.cancel', at: d.at(1) });
    expect(commandsOf(canceled, 'release-slot').map((c) => c.token)).toEqual(['r1:$run:1']);
    expect(d.state.status).toBe('canceled');

    const retried = d.apply({ type: 'run.retry', at: d.at(10) });
    const asked = commandsOf(retried, 'acquire-slot');
    expect(asked.map((c) => c.stepId)).toEqual([RUN_SLOT_STEP]);
    expect(commandsOf(retried, 'dispatch')).toEqual([]);
    expect(d.state.status).toBe('queued');
    const admitted = d.apply({ type: 'slot.granted', at: d.at(1), stepId: RUN_SLOT_STEP, token: asked[0]?.token ?? '' });
    expect(commandsOf(admitted, 'dispatch').map((c) => c.stepId)).toEqual(['a']);
    expect(commandsOf(admitted, 'emit').find((c) => c.event.type === 'run.started')?.event.data).toEqual({ retry: true });
  });

  it('a workflow without a limit starts at once; validation knows the field', () => {
    const d = new RunDriver(workflow([{ id: 'a', action: 'work' }]));
    expect(commandsOf(d.start(), 'dispatch')).toHaveLength(1);
    const problems = (concurrency: unknown) =>
      parseWorkflow(JSON.stringify({ ...workflow([{ id: 'a', action: 'work' }]), concurrency }), 'w.json')
        .diagnostics.filter((x) => x.severity === 'error')
        .map((x) => `${x.path}: ${x.message}`);
    expect(problems({ limit: 3, strategy: 'cancel-in-progress' })).toEqual([]);
    expect(problems({ limit: 0 }).join('\n')).toMatch(/^concurrency\.limit/);
    expect(problems({ limit: 1, strategy: 'drop' }).join('\n')).toMatch(/^concurrency\.strategy/);
  });
});
