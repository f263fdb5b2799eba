import type { StepInput } from '@weft/sdk';
import { WeftClient } from '../../libs/sdk/src/client';
import { type ApiApp, startApiApp } from '../support/api-app.harness';
import { describeDistributed } from '../distributed/support/infra.util';

// GET /v1/runs/{id}/steps/{step}/input: the console's step panel shows what a step's action
// was given (its with: evaluated), beside the with: as written; none, with the reason, for a
// step that never ran; within the key's namespace.

const spec = {
  apiVersion: 'weft/v1',
  kind: 'Workflow',
  name: 'inputs-shown',
  inputs: { who: { type: 'string', required: true }, n: { type: 'integer', default: 2 } },
  steps: [
    { id: 'greet', action: 'transform', with: { expr: "'hello ' + inputs.who" } },
    { id: 'shout', needs: ['greet'], action: 'log', with: { message: '${{ steps.greet.output }}!', times: '${{ inputs.n * 2 }}', fixed: 'as is' } },
    { id: 'boom', needs: ['greet'], action: 'fail', with: { code: 'NOPE', message: 'no ${{ inputs.who }}' } },
    { id: 'after', needs: ['boom'], action: 'noop' },
  ],
};

describeDistributed('a step\'s evaluated input (NATS JetStream + PostgreSQL)', { nats: true, postgres: true }, () => {
  let app: ApiApp;
  let key: string;
  let runId: string;

  beforeAll(async () => {
    app = await startApiApp();
    key = await app.key('default');
    const res = await app.request('POST', '/v1/runs/adhoc?mode=sync', { key, json: { spec, inputs: { who: 'ann' } } });
    expect(res.status).toBe(200);
    const run = (await res.json()) as { runId: string; status: string };
    expect(run.status).toBe('failed');
    runId = run.runId;
  }, 120_000);
  afterAll(async () => {
    await app?.close();
  });

  const input = async (step: string, as = key): Promise<{ status: number; body: StepInput & { code?: string } }> => {
    const res = await app.request('GET', `/v1/runs/${runId}/steps/${step}/input`, { key: as });
    return { status: res.status, body: (await res.json()) as StepInput & { code?: string } };
  };

  it('answers with: rendered in the run, beside with: as written', async () => {
    expect((await input('shout')).body).toEqual({
      runId,
      stepId: 'shout',
      action: 'log',
      with: { message: '${{ steps.greet.output }}!', times: '${{ inputs.n * 2 }}', fixed: 'as is' },
      input: { message: 'hello ann!', times: 4, fixed: 'as is' },
      reason: null,
    });
    expect((await input('boom')).body.input).toEqual({ code: 'NOPE', message: 'no ann' });
  });

  it("answers a transform's { value }", async () => {
    expect((await input('greet')).body).toMatchObject({ action: 'transform', input: { value: 'hello ann' }, reason: null });
  });

  it('answers no input, with the reason, for a step that never ran', async () => {
    const after = (await input('after')).body;
    expect(after.input).toBeNull();
    expect(after.reason).toMatch(/^(not dispatched yet|skipped)/);
  });

  it('is what the SDK answers for client.runs.stepInput, 404 as WeftApiError', async () => {
    const sdk = new WeftClient({ url: app.url, apiKey: key });
    expect(await sdk.runs.stepInput(runId, 'shout')).toEqual((await input('shout')).body);
    expect((await sdk.runs.stepInput(runId, 'after')).input).toBeNull();
    await expect(sdk.runs.stepInput(runId, 'nope')).rejects.toMatchObject({ status: 404, code: 'STEP_NOT_FOUND' });
  });

  it('is 404 for an unknown step, and for another namespace', async () => {
    const unknown = await input('nope');
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('STEP_NOT_FOUND');
    const other = await input('shout', await app.key('team-b'));
    expect(other.status).toBe(404);
    expect(other.body.code).toBe('RUN_NOT_FOUND');
  });
});
