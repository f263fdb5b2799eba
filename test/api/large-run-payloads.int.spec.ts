import { sweepUnnamedBlobs } from '@weft/db';
import { WeftClient } from '@weft/sdk';
import { describeDistributed } from '../distributed/support/infra.util';
import { waitFor } from '../distributed/support/wait.util';
import { type ApiApp, startApiApp } from '../support/api-app.harness';

/**
 * Issue 12 item 4 on NATS JetStream + PostgreSQL: run inputs and run outputs above the inline
 * threshold (256 KiB) are stored once as blobs and kept by reference in the run row, its events and
 * messages; expressions read them as values; the API and SDK fetch them whole; another namespace
 * cannot; a rerun reads them back; the sweep removes blobs no run names and keeps the others.
 */

const doc = (marker: string) => ({ marker, rows: Array.from({ length: 600 }, (_, i) => ({ i, text: `é✓ ${'y'.repeat(990)}` })) });

const spec = {
  apiVersion: 'weft/v1',
  kind: 'Workflow',
  name: 'big-io',
  inputs: { doc: { type: 'object', required: true }, tag: { type: 'string', default: 't' } },
  steps: [{ id: 'peek', action: 'transform', with: { expr: 'inputs.doc.marker + ":" + string(size(inputs.doc.rows)) + ":" + inputs.tag' } }],
  outputs: { echoed: '${{ inputs.doc }}', peek: '${{ steps.peek.output }}' },
};

const TERMINAL = ['completed', 'failed', 'partially_completed', 'canceled', 'timed_out'];

interface RunBody {
  status: string;
  error: unknown;
  inputs: Record<string, unknown>;
  outputs: Record<string, unknown> | null;
  steps: { id: string; output: unknown }[];
}

describeDistributed('large run inputs and outputs by reference', { nats: true, postgres: true }, () => {
  let app: ApiApp;
  let keyA: string;
  let keyB: string;

  beforeAll(async () => {
    app = await startApiApp({ bodyLimit: '4mb' });
    keyA = await app.key('default');
    keyB = await app.key('team-b');
  }, 60_000);

  afterAll(async () => {
    await app?.close();
  });

  const finished = (runId: string): Promise<RunBody> =>
    waitFor(
      async () => {
        const body = (await (await app.request('GET', `/v1/runs/${runId}`, { key: keyA })).json()) as RunBody;
        return TERMINAL.includes(body.status) ? body : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 100, what: `run ${runId} to end` },
    );

  const start = async (marker: string): Promise<string> => {
    const response = await app.request('POST', '/v1/runs/adhoc', { key: keyA, json: { spec, inputs: { doc: doc(marker) } } });
    expect(response.status).toBe(202);
    return ((await response.json()) as { runId: string }).runId;
  };

  it('stores inputs and outputs once, reads them in expressions, serves them whole to the API and SDK of the namespace only, and reruns from them', async () => {
    const runId = await start('in-1');
    const run = await finished(runId);
    expect(run.error).toBeNull();
    expect(run.status).toBe('completed');
    const inputsJson = Buffer.from(JSON.stringify({ doc: doc('in-1'), tag: 't' }));
    const outputsJson = Buffer.from(JSON.stringify({ echoed: doc('in-1'), peek: 'in-1:600:t' }));
    expect(inputsJson.byteLength).toBeGreaterThan(256 * 1024);
    // The run view carries references with where to fetch them, not the megabytes.
    expect(JSON.stringify(run).length).toBeLessThan(64 * 1024);
    expect(run.inputs).toEqual({ $weftBlob: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown, size: inputsJson.byteLength, href: `/v1/runs/${runId}/inputs` });
    expect(run.outputs).toEqual({ $weftBlob: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown, size: outputsJson.byteLength, href: `/v1/runs/${runId}/outputs` });
    expect(run.steps.find((s) => s.id === 'peek')?.output).toBe('in-1:600:t');

    // The run row, and the events the run published (its run.queued and run.completed), hold references.
    const [row] = await app.query<{ inputs: number; outputs: number }>(`SELECT pg_column_size(inputs) AS inputs, pg_column_size(outputs) AS outputs FROM runs WHERE id = $1`, [runId]);
    expect(Number(row.inputs)).toBeLessThan(1024);
    expect(Number(row.outputs)).toBeLessThan(1024);
    const blobs = await app.query<{ id: string; size: string; namespace: string }>(`SELECT id, size, namespace FROM blobs WHERE id = ANY($1)`, [[(run.inputs as { $weftBlob: string }).$weftBlob, (run.outputs as { $weftBlob: string }).$weftBlob]]);
    expect(blobs.map((b) => Number(b.size)).sort((a, b) => a - b)).toEqual([inputsJson.byteLength, outputsJson.byteLength].sort((a, b) => a - b));
    expect(blobs.every((b) => b.namespace === 'default')).toBe(true);

    // Streamed back byte for byte; GET /v1/runs/{id}/output keeps its shape with the reference.
    for (const [path, expected] of [[`/v1/runs/${runId}/inputs`, inputsJson], [`/v1/runs/${runId}/outputs`, outputsJson]] as const) {
      const response = await app.request('GET', path, { key: keyA });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-length')).toBe(String(expected.byteLength));
      expect(Buffer.from(await response.arrayBuffer()).equals(expected)).toBe(true);
    }
    const output = (await (await app.request('GET', `/v1/runs/${runId}/output`, { key: keyA })).json()) as { outputs: { href: string } };
    expect(output.outputs.href).toBe(`/v1/runs/${runId}/outputs`);

    // Another namespace gets 404 on every route.
    for (const path of [`/v1/runs/${runId}`, `/v1/runs/${runId}/inputs`, `/v1/runs/${runId}/outputs`, `/v1/runs/${runId}/output`]) {
      const denied = await app.request('GET', path, { key: keyB });
      expect(denied.status).toBe(404);
      expect(denied.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    }

    const client = new WeftClient({ url: app.url, apiKey: keyA });
    expect(((await client.runs.inputs(runId)) as { doc: { marker: string } }).doc.marker).toBe('in-1');
    expect(((await client.runs.outputs(runId)) as { peek: string }).peek).toBe('in-1:600:t');

    // A rerun reads the stored inputs back and runs on them (its inputs are the same blob).
    const rerun = await app.request('POST', `/v1/runs/${runId}/rerun`, { key: keyA, json: {} });
    expect(rerun.status).toBe(202);
    const again = await finished(((await rerun.json()) as { runId: string }).runId);
    expect(again.status).toBe('completed');
    expect((again.inputs as { $weftBlob: string }).$weftBlob).toBe((run.inputs as { $weftBlob: string }).$weftBlob);
  }, 120_000);

  it("a child run's large inputs travel by reference, and its large outputs come back to the parent step by reference", async () => {
    const child = {
      apiVersion: 'weft/v1',
      kind: 'Workflow',
      name: 'big-child',
      inputs: { doc: { type: 'object', required: true } },
      steps: [{ id: 'n', action: 'transform', with: { expr: 'size(inputs.doc.rows)' } }],
      outputs: { echoed: '${{ inputs.doc }}', n: '${{ steps.n.output }}' },
    };
    const created = await app.request('POST', '/v1/workflows', { key: keyA, json: { spec: child } });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    expect((await app.request('POST', `/v1/workflows/${id}/versions`, { key: keyA })).status).toBe(201);
    expect((await app.request('POST', `/v1/workflows/${id}/versions/1/publish`, { key: keyA })).status).toBe(200);
    const parent = {
      apiVersion: 'weft/v1',
      kind: 'Workflow',
      name: 'big-parent',
      inputs: { doc: { type: 'object', required: true } },
      steps: [
        { id: 'child', action: 'workflow', with: { workflow: 'big-child', inputs: { doc: '${{ inputs.doc }}' } } },
        { id: 'read', needs: ['child'], action: 'transform', with: { expr: 'steps.child.output.echoed.marker + ":" + string(steps.child.output.n)' } },
      ],
    };
    const response = await app.request('POST', '/v1/runs/adhoc', { key: keyA, json: { spec: parent, inputs: { doc: doc('kid') } } });
    expect(response.status).toBe(202);
    const runId = ((await response.json()) as { runId: string }).runId;
    const run = await finished(runId);
    expect(run.status).toBe('completed');
    expect(run.steps.find((s) => s.id === 'read')?.output).toBe('kid:600');
    // The parent step's output is the child's outputs, by reference, fetched like any step output.
    const childStep = run.steps.find((s) => s.id === 'child');
    expect(childStep?.output).toMatchObject({ $weftBlob: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown, href: `/v1/runs/${runId}/steps/child/output` });
    const streamed = (await (await app.request('GET', `/v1/runs/${runId}/steps/child/output`, { key: keyA })).json()) as { echoed: { marker: string }; n: number };
    expect({ marker: streamed.echoed.marker, n: streamed.n }).toEqual({ marker: 'kid', n: 600 });
    // The child's run request (outbox) carried a reference, not the document, and the child keeps one.
    const requests = await app.query<{ size: number }>(`SELECT length(payload::text) AS size FROM outbox WHERE subject LIKE '%run.requested%' AND payload->'parent'->>'runId' = $1`, [runId]);
    expect(requests.length).toBe(1);
    expect(Number(requests[0].size)).toBeLessThan(4 * 1024);
    const children = (run as unknown as { children: { runId: string }[] }).children;
    expect(children).toHaveLength(1);
    const [childRow] = await app.query<{ inputs: { $weftBlob?: string } }>(`SELECT inputs FROM runs WHERE id = $1`, [children[0].runId]);
    expect(childRow.inputs.$weftBlob).toMatch(/^[0-9a-f]{64}$/);
  }, 120_000);

  it('a small run stays inline, and inputs shaped like a reference are refused without a run', async () => {
    const small = await app.request('POST', '/v1/runs/adhoc?mode=sync', { key: keyA, json: { spec, inputs: { doc: { marker: 's', rows: [] } } } });
    const body = (await small.json()) as RunBody;
    expect(body.inputs).toEqual({ doc: { marker: 's', rows: [] }, tag: 't' });
    expect((body.outputs as { peek: string }).peek).toBe('s:0:t');

    const [{ id }] = await app.query<{ id: string }>(`SELECT id FROM blobs LIMIT 1`);
    const before = await app.query<{ n: string }>(`SELECT count(*) AS n FROM runs`);
    const forged = await app.request('POST', '/v1/runs/adhoc', { key: keyB, json: { spec, inputs: { $weftBlob: id, size: 10 } } });
    expect(forged.status).toBeGreaterThanOrEqual(400);
    expect(forged.status).toBeLessThan(500);
    expect(forged.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await app.query<{ n: string }>(`SELECT count(*) AS n FROM runs`)).toEqual(before);
  }, 60_000);

  it('the sweep removes the blobs of deleted runs and blobs nothing names, past the grace only, and keeps those runs name', async () => {
    const kept = await finished(await start('kept'));
    const gone = await finished(await start('gone'));
    const id = (ref: unknown): string => (ref as { $weftBlob: string }).$weftBlob;
    const orphan = 'f'.repeat(64);
    await app.query(`INSERT INTO blobs (id, namespace, size, json) VALUES ($1, 'default', 2, '{}')`, [orphan]);
    // Within the grace nothing goes (nothing is even looked at).
    expect(await sweepUnnamedBlobs(app.dataSource, 60 * 60_000, 100)).toEqual({ removed: [], next: undefined });

    await app.query(`DELETE FROM runs WHERE id = $1`, [(gone as unknown as { runId: string }).runId]);
    await app.query(`UPDATE blobs SET created_at = now() - interval '2 hours'`);
    const removed: string[] = [];
    const total = Number((await app.query<{ n: string }>(`SELECT count(*) AS n FROM blobs`))[0].n);
    // Bounded steps: each looks at 2 blobs, in (created_at, id) order, until the cursor runs out.
    let steps = 0;
    for (let step = await sweepUnnamedBlobs(app.dataSource, 60 * 60_000, 2); ; step = await sweepUnnamedBlobs(app.dataSource, 60 * 60_000, 2, step.next)) {
      steps++;
      expect(step.removed.length).toBeLessThanOrEqual(2);
      removed.push(...step.removed);
      if (step.next === undefined) break;
    }
    expect(steps).toBe(Math.floor(total / 2) + 1);
    expect(removed.sort()).toEqual([id(gone.inputs), id(gone.outputs), orphan].sort());
    const left = (await app.query<{ id: string }>(`SELECT id FROM blobs`)).map((r) => r.id);
    expect(left).toEqual(expect.arrayContaining([id(kept.inputs), id(kept.outputs)]));
    // The kept run still serves its inputs.
    expect((await app.request('GET', `/v1/runs/${(kept as unknown as { runId: string }).runId}/inputs`, { key: keyA })).status).toBe(200);
  }, 120_000);
});
