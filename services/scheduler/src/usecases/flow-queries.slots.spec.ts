import { createRun, decide, type WorkflowSpec } from '@weft/core';
import { FlowQueriesUseCase } from './flow-queries.usecase';

const spec: WorkflowSpec = {
  apiVersion: 'weft/v1',
  kind: 'Workflow',
  name: 'per-customer',
  inputs: { customer: { type: 'string' } },
  steps: [{ id: 'call', action: 'work', concurrency: { limit: 2, key: '${{ inputs.customer }}' } }],
};

describe("why: a step waiting for a concurrency slot names the key and who holds it", () => {
  it('loads the holders of the key and reports them with since', async () => {
    const created = createRun({ runId: 'r9', spec, version: '1', inputs: { customer: 'acme' }, at: 1_000 });
    const state = decide(created.state, { type: 'run.start', at: 1_001 }).state;
    const asked: string[][] = [];
    const holders = async (namespace: string, scope: string, key: string) => {
      asked.push([namespace, scope, key]);
      return [{ token: 't1', runId: 'r1', stepId: 'call', grantedAt: Date.parse('2026-12-06T00:00:00.000Z'), expiresAt: 0 }];
    };
    const flow = new FlowQueriesUseCase({ get: async () => state }, async () => 2_000, undefined, { holders });
    const why = await flow.why('default', 'r9');
    expect(asked).toEqual([['default', 'per-customer/call', 'acme']]);
    expect(why.steps[0]).toMatchObject({
      stepId: 'call',
      status: 'waiting',
      reason: { kind: 'slot', key: 'acme', limit: 2, holders: [{ runId: 'r1', stepId: 'call', since: '2026-12-06T00:00:00.000Z' }] },
      text: 'waiting for a concurrency slot of key "acme" (limit 2): held by r1/call since 2026-12-06T00:00:00.000Z',
    });
  });
});
