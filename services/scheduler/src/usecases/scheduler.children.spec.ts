import { childRunId, type RunState, TERMINAL_RUN_STATUSES, type WorkflowSpec } from '@weft/core';
import type { MemoryRunStore } from '../persistence/memory-run.store';
import type { WorkflowCatalog } from '../ports/workflow-catalog.port';
import type { Scheduler } from '../scheduler';
import { waitFor } from '../testing/run-store.fixtures';
import { memoryShell, startedForEachTest } from '../testing/started-for-each-test.util';

/** Issue 16 item 2: sub-workflows through the scheduler shell (in-memory bus and store). */
const spec = (name: string, steps: WorkflowSpec['steps'], extra: Partial<WorkflowSpec> = {}): WorkflowSpec => ({ apiVersion: 'weft/v1', kind: 'Workflow', name, steps, ...extra });

const workflows = new Map<string, WorkflowSpec>([
  ['double', spec('double', [{ id: 'calc', action: 'transform', with: { expr: 'inputs.n * 2' } }], { inputs: { n: { type: 'number' } }, outputs: { doubled: '${{ steps.calc.output }}' } })],
  ['broken', spec('broken', [{ id: 'boom', action: 'fail', with: { message: 'it broke' } }])],
  ['slow', spec('slow', [{ id: 'nap', action: 'sleep', with: { duration: '1h' } }])],
  ['nested', spec('nested', [{ id: 'inner', action: 'workflow', with: { workflow: 'double', inputs: { n: '${{ inputs.n }}' } } }], { inputs: { n: { type: 'number' } }, outputs: { v: '${{ steps.inner.output.doubled }}' } })],
]);
const catalog: WorkflowCatalog = { resolve: async (name) => (workflows.has(name) ? { spec: workflows.get(name) as WorkflowSpec, version: '1' } : undefined) };

let store: MemoryRunStore;
let scheduler: Scheduler;

startedForEachTest(async () => {
  const shell = memoryShell({ catalog, maxRunDepth: 3 });
  ({ store, scheduler } = shell);
  return shell;
});

/** Polls `read` every 10 ms until it answers (bounded: 10 s). */
const until = <T>(read: () => Promise<T | undefined>, what: string): Promise<T> => waitFor(read, what, 10_000, 10);

const inStatus = (runId: string, statuses: readonly string[]): Promise<RunState> =>
  until(async () => {
    const run = await store.getRun(runId);
    return run && statuses.includes(run.status) ? run : undefined;
  }, `run ${runId} did not reach ${statuses.join('|')}`);
const finished = (runId: string): Promise<RunState> => inStatus(runId, TERMINAL_RUN_STATUSES);

let runs = 0;
const start = (workflow: WorkflowSpec, inputs: Record<string, unknown> = {}): Promise<string> =>
  scheduler.startRun({ idempotencyKey: `k${++runs}`, workflow: workflow.name, spec: workflow, inputs }).then((r) => r.runId);

const caller = (child: string, inputs: Record<string, unknown> = {}): WorkflowSpec =>
  spec('caller', [{ id: 'call', action: 'workflow', with: { workflow: child, inputs } }], { outputs: { got: '${{ steps.call.output }}' } });

describe('sub-workflows in the scheduler', () => {
  it("the parent step completes with the child's outputs; the child records its parent and source", async () => {
    const parentId = await start(caller('double', { n: 21 }));
    const parent = await finished(parentId);
    expect(parent.error).toBeUndefined();
    expect(parent).toMatchObject({ status: 'completed', outputs: { got: { doubled: 42 } } });
    const childId = childRunId(`${parentId}:call:1`);
    expect(await store.getRun(childId)).toMatchObject({ status: 'completed', parent: { runId: parentId, stepId: 'call', attempt: 1 }, depth: 1, source: `parent:${parentId}` });
    // Exactly one child run: its id is a function of the parent attempt.
    expect((await store.listRuns()).filter((r) => r.parent?.runId === parentId).map((r) => r.runId)).toEqual([childId]);
    // A replayed request (a relay re-send past the broker's duplicate window, even with another run id) names the same child.
    const token = `${parentId}:call:1`;
    const replay = await scheduler.startRun({ idempotencyKey: token, runId: 'another', workflow: 'double', inputs: { n: 21 }, parent: { runId: parentId, stepId: 'call', attempt: 1, token, depth: 1 } });
    expect(replay).toEqual({ runId: childId, created: false });
  });

  it("a child's failure fails the parent step with CHILD_FAILED naming the child's error", async () => {
    const parent = await finished(await start(caller('broken')));
    expect(parent.status).toBe('failed');
    expect(parent.steps['call']?.error).toMatchObject({ code: 'CHILD_FAILED', message: expect.stringContaining('it broke') as unknown });
  });

  it('canceling the parent cancels the child', async () => {
    const parentId = await start(caller('slow'));
    const childId = childRunId(`${parentId}:call:1`);
    await inStatus(childId, ['waiting']);
    await scheduler.cancelRun(parentId, 'enough');
    expect(await finished(childId)).toMatchObject({ status: 'canceled', error: { message: expect.stringContaining(`parent run ${parentId}`) as unknown } });
    expect((await store.getRun(parentId))?.status).toBe('canceled');
  });

  it('an unknown child workflow fails the parent step with CHILD_REJECTED (nothing waits forever)', async () => {
    const parent = await finished(await start(caller('nowhere')));
    expect(parent.steps['call']?.error).toMatchObject({ code: 'CHILD_REJECTED', message: expect.stringContaining('unknown workflow nowhere') as unknown });
  });

  it('nests children (grandchild outputs come up) and stops at WEFT_MAX_RUN_DEPTH', async () => {
    const parent = await finished(await start(caller('nested', { n: 21 })));
    expect(parent).toMatchObject({ status: 'completed', outputs: { got: { v: 42 } } });

    // depth limit 3: caller(0) -> deep(1) -> deep(2) -> deep(3) -> a 4th fails RUN_DEPTH_EXCEEDED, and the failure comes up the chain.
    workflows.set('deep', spec('deep', [{ id: 'again', action: 'workflow', if: '${{ true }}', with: { workflow: 'deep' } }]));
    const deep = await finished(await start(caller('deep')));
    expect(deep.status).toBe('failed');
    expect(JSON.stringify(deep.steps['call']?.error)).toContain('RUN_DEPTH_EXCEEDED');
  });
});
