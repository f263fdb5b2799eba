import { openSqlRunStore, SqlWorkflowRepository, WorkflowsUseCase } from '@weft/scheduler';
import { childRunId, type WorkflowSpec } from '@weft/core';
import { POSTGRES_URL, describeDistributed } from './support/infra.util';
import { type Scenario, scenario } from './support/scenario.util';

/**
 * Issue 16 item 2 on real NATS + PostgreSQL with the scheduler and executor as processes: a child
 * run's failure fails the parent step; canceling the parent cancels the child; SIGKILL of the
 * scheduler between the parent's commit and the child's creation leaves exactly one child.
 */

const spec = (name: string, steps: WorkflowSpec['steps'], extra: Partial<WorkflowSpec> = {}): WorkflowSpec => ({ apiVersion: 'weft/v1', kind: 'Workflow', name, steps, ...extra });

/** Stores and publishes workflows in the scenario's schema (what POST /v1/workflows + publish do). */
async function publish(s: Scenario, ...specs: WorkflowSpec[]): Promise<void> {
  const opened = await openSqlRunStore({ kind: 'postgres', url: POSTGRES_URL, schema: s.schema }, { migrate: true });
  try {
    const workflows = new WorkflowsUseCase(new SqlWorkflowRepository(opened.dataSource));
    for (const one of specs) {
      await workflows.create('default', { spec: { spec: one } });
      const { version } = await workflows.freeze('default', one.name);
      await workflows.publish('default', one.name, version.version);
    }
  } finally {
    await opened.store.close();
    await opened.dataSource.destroy();
  }
}

async function startParent(s: Scenario, child: string, runId = `parent-${Math.random().toString(36).slice(2, 10)}`): Promise<string> {
  const bus = await s.bus();
  const parent = spec('parent', [{ id: 'call', action: 'workflow', with: { workflow: child, inputs: { n: 21 } } }], { outputs: { got: '${{ steps.call.output }}' } });
  await bus.publish('weft.run.requested', { idempotencyKey: runId, runId, workflow: 'parent', spec: parent, inputs: {}, source: 'test' });
  return runId;
}

const childrenOf = (s: Scenario, parentId: string): Promise<{ id: string; status: string }[]> =>
  s.sql<{ id: string; status: string }>(`SELECT id, status FROM runs WHERE extra->'parent'->>'runId' = $1 ORDER BY id`, [parentId]);

describeDistributed('sub-workflows', { nats: true, postgres: true }, () => {
  scenario("a child's failure fails the parent step; canceling the parent cancels its child", 60_000, async (s) => {
    await publish(
      s,
      spec('double', [{ id: 'calc', action: 'transform', with: { expr: 'inputs.n * 2' } }], { inputs: { n: { type: 'number' } }, outputs: { doubled: '${{ steps.calc.output }}' } }),
      spec('broken', [{ id: 'boom', action: 'fail', with: { message: 'it broke' } }], { inputs: { n: { type: 'number' } } }),
      spec('slow', [{ id: 'nap', action: 'sleep', with: { duration: '1h' } }], { inputs: { n: { type: 'number' } } }),
    );
    await Promise.all([s.spawn('scheduler'), s.spawn('executor')]);

    const ok = await s.waitForRun(await startParent(s, 'double'), (r) => r.status === 'completed' || r.status === 'failed', 20_000);
    expect({ status: ok.status, outputs: ok.outputs }).toEqual({ status: 'completed', outputs: { got: { doubled: 42 } } });

    const failedId = await startParent(s, 'broken');
    const failed = await s.waitForRun(failedId, (r) => r.status === 'failed' || r.status === 'completed', 20_000);
    expect(failed.steps['call']?.error).toMatchObject({ code: 'CHILD_FAILED', message: expect.stringContaining('it broke') as unknown, retryable: false });
    expect(await childrenOf(s, failedId)).toEqual([{ id: childRunId(`${failedId}:call:1`), status: 'failed' }]);

    const slowId = await startParent(s, 'slow');
    const childId = childRunId(`${slowId}:call:1`);
    await s.waitForRun(childId, (r) => r.status === 'waiting', 20_000, 'the child to sleep');
    const bus = await s.bus();
    await bus.publish('weft.run.cancel-requested', { runId: slowId, reason: 'enough' });
    const child = await s.waitForRun(childId, (r) => r.status === 'canceled', 20_000, 'the child to be canceled');
    expect(child.error?.message).toContain(`parent run ${slowId}`);
    expect((await (await s.store()).getRun(slowId))?.status).toBe('canceled');
  });

  scenario('SIGKILL of the scheduler between the parent commit and the child creation leaves exactly one child', 60_000, async (s) => {
    await publish(s, spec('double', [{ id: 'calc', action: 'transform', with: { expr: 'inputs.n * 2' } }], { inputs: { n: { type: 'number' } }, outputs: { doubled: '${{ steps.calc.output }}' } }));
    const [crashing] = await Promise.all([s.spawn('scheduler', { WEFT_TEST_CRASH_AFTER_COMMIT: 'true' }), s.spawn('executor')]);
    const parentId = await startParent(s, 'double');
    expect(await crashing.exited).toEqual({ code: 86, signal: null });

    // Committed: the parent waits on its child, whose run request is an unpublished outbox row; no child yet.
    const committed = await (await s.store()).getRun(parentId);
    expect(committed?.steps['call']).toMatchObject({ status: 'waiting', wait: { kind: 'child' } });
    const pending = await s.sql<{ subject: string }>(`SELECT subject FROM outbox WHERE run_id = $1 AND published_at IS NULL`, [parentId]);
    expect(pending.map((p) => p.subject)).toContain('weft.run.requested');
    expect(await childrenOf(s, parentId)).toEqual([]);

    await s.spawn('scheduler');
    const parent = await s.waitForRun(parentId, (r) => r.status === 'completed' || r.status === 'failed', 20_000);
    expect({ status: parent.status, outputs: parent.outputs }).toEqual({ status: 'completed', outputs: { got: { doubled: 42 } } });
    const token = `${parentId}:call:1`;
    expect(await childrenOf(s, parentId)).toEqual([{ id: childRunId(token), status: 'completed' }]);
  });
});
