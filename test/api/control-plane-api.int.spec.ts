import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { parseWorkflow } from '@weft/core';
import { POSTGRES_TEST_URL } from '@weft/db/testing';
import { type ActionDefinition, defineAction } from '@weft/worker';
import { type ApiApp, NATS_TEST_URL, startApiApp } from '../support/api-app.harness';
import { readSse } from '../support/sse.util';
import { describeDistributed } from '../distributed/support/infra.util';
import { waitFor } from '../distributed/support/wait.util';
import { ROUTE_LIST } from '@weft/scheduler';

const hello = (message = 'hi') => ({
  apiVersion: 'weft/v1',
  kind: 'Workflow',
  name: 'hello',
  inputs: { who: { type: 'string', default: 'world' } },
  steps: [
    { id: 'greet', action: 'transform', with: { expr: "'hello ' + inputs.who" } },
    { id: 'say', needs: ['greet'], action: 'log', with: { message: `${message}: \${{ steps.greet.output }}` } },
  ],
  outputs: { greeting: '${{ steps.greet.output }}' },
});

const sleeper = { apiVersion: 'weft/v1', kind: 'Workflow', name: 'sleeper', steps: [{ id: 'nap', action: 'sleep', with: { duration: '30s' } }] };

/** How often each (run, step) ran in a worker: proves what a rerun did not run again. */
const executions = new Map<string, number>();
const counted = defineAction<{ label?: string }>({
  name: 'counted',
  description: 'Counts its executions',
  inputSchema: { type: 'object', properties: { label: { type: 'string' } } },
  handler: (input, ctx) => {
    const key = `${ctx.workflow}:${ctx.stepId}`;
    executions.set(key, (executions.get(key) ?? 0) + 1);
    return { label: input.label ?? ctx.stepId, count: executions.get(key) };
  },
});
/** Fails on a run's first attempt of the step, succeeds afterwards (retry). */
const failedOnce = new Set<string>();
const flaky = defineAction({
  name: 'flaky',
  handler: (_input, ctx) => {
    if (!failedOnce.has(ctx.runId)) {
      failedOnce.add(ctx.runId);
      throw new Error('first time fails');
    }
    return { ok: true };
  },
});
/** Attempt 1 hangs until aborted (a stuck worker); later attempts return. */
const hangOnce = defineAction({
  name: 'hang-once',
  handler: (_input, ctx) =>
    ctx.attempt === 1 ? new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true })) : { attempt: ctx.attempt },
});
const ACTIONS: ActionDefinition[] = [counted, flaky, hangOnce];

async function json<T = Record<string, unknown>>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

/** A problem document: the status, the media type and the members every problem has. */
async function expectProblem(response: Response, status: number, code: string): Promise<Record<string, unknown>> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const body = await json(response);
  expect(body).toMatchObject({ status, code, type: expect.stringMatching(/^urn:weft:problem:/), title: expect.any(String), detail: expect.any(String) });
  return body;
}

async function counts(app: ApiApp): Promise<Record<string, number>> {
  const [row] = await app.query<Record<string, number>>(
    `SELECT (SELECT count(*)::int FROM workflows) AS workflows, (SELECT count(*)::int FROM workflow_versions) AS versions,
            (SELECT count(*)::int FROM runs) AS runs, (SELECT coalesce(max(draft_revision), 0)::int FROM workflows) AS revision,
            (SELECT count(*)::int FROM api_keys) AS keys`,
  );
  return row;
}

describeDistributed('control-plane API over HTTP (NATS JetStream + PostgreSQL)', { nats: true, postgres: true }, () => {
  let app: ApiApp;
  let key: string;

  beforeEach(async () => {
    app = await startApiApp({ actions: ACTIONS, bodyLimit: '16kb' });
    key = await app.key();
  }, 30_000);

  afterEach(async () => {
    await app?.close();
  }, 30_000);

  /** Registers hello (or a given spec) and publishes its version 1. */
  async function publish(spec: object = hello()): Promise<string> {
    const created = await app.request('POST', '/v1/workflows', { key, json: { spec } });
    expect(created.status).toBe(201);
    const { id } = await json<{ id: string }>(created);
    expect((await app.request('POST', `/v1/workflows/${id}/versions`, { key })).status).toBe(201);
    expect((await app.request('POST', `/v1/workflows/${id}/versions/1/publish`, { key })).status).toBe(200);
    return id;
  }

  describe('workflows, drafts and versions', () => {
    it('creates a workflow, edits its draft under If-Match, freezes versions by hash, publishes and archives', async () => {
      const created = await app.request('POST', '/v1/workflows', { key, json: { spec: hello(), description: 'says hello' } });
      expect(created.status).toBe(201);
      const workflow = await json<{ id: string; name: string; draftRevision: number }>(created);
      expect(workflow).toMatchObject({ name: 'hello', draftRevision: 1, hasDraft: true, publishedVersion: null, description: 'says hello', namespace: 'default' });
      expect(created.headers.get('location')).toBe(`/v1/workflows/${workflow.id}`);
      expect(created.headers.get('etag')).toBe('"1"');

      const draft = await app.request('GET', '/v1/workflows/hello/draft', { key });
      expect(draft.headers.get('etag')).toBe('"1"');
      expect(await json(draft)).toMatchObject({ revision: 1, spec: hello() });

      const saved = await app.request('PATCH', `/v1/workflows/${workflow.id}/draft`, { key, json: { spec: hello('hey') }, headers: { 'If-Match': '"1"' } });
      expect(saved.status).toBe(200);
      expect(saved.headers.get('etag')).toBe('"2"');

      // A second editor still holding revision 1 loses, and nothing changes.
      const before = await counts(app);
      const stale = await app.request('PATCH', `/v1/workflows/${workflow.id}/draft`, { key, json: { spec: hello('late') }, headers: { 'If-Match': '"1"' } });
      await expectProblem(stale, 412, 'STALE_REVISION');
      expect(await counts(app)).toEqual(before);
      const [row] = await app.query<{ draft_spec: { steps: { with: { message: string } }[] } }>('SELECT draft_spec FROM workflows WHERE id = $1', [workflow.id]);
      expect(row.draft_spec.steps[1].with.message).toMatch(/^hey/);

      // Saving the draft it already has changes nothing: 200 with the current draft, same revision and ETag.
      const current = await json<{ updatedAt: string }>(await app.request('GET', '/v1/workflows/hello/draft', { key }));
      const unchanged = await app.request('PATCH', `/v1/workflows/${workflow.id}/draft`, { key, json: { spec: hello('hey') }, headers: { 'If-Match': '"2"' } });
      expect(unchanged.status).toBe(200);
      expect(unchanged.headers.get('etag')).toBe('"2"');
      expect(await json(unchanged)).toEqual({ ...current, revision: 2, spec: hello('hey') });
      // If-Match still comes first: a stale revision is 412 even for the current content.
      await expectProblem(await app.request('PATCH', `/v1/workflows/${workflow.id}/draft`, { key, json: { spec: hello('hey') }, headers: { 'If-Match': '"1"' } }), 412, 'STALE_REVISION');
      expect(await counts(app)).toEqual(before);

      const v1 = await app.request('POST', `/v1/workflows/${workflow.id}/versions`, { key });
      expect(v1.status).toBe(201);
      expect(v1.headers.get('location')).toBe(`/v1/workflows/${workflow.id}/versions/1`);
      const version = await json<{ hash: string }>(v1);
      expect(version).toMatchObject({ version: 1, archived: false, published: false, spec: hello('hey') });
      // The same spec again (keys in another order) is the same version, not a second one.
      const reordered = Object.fromEntries(Object.entries(hello('hey')).reverse());
      const sameDraft = await app.request('PATCH', `/v1/workflows/hello/draft`, { key, json: { spec: reordered } });
      expect(sameDraft.status).toBe(200);
      expect(sameDraft.headers.get('etag')).toBe('"2"');
      const again = await app.request('POST', `/v1/workflows/hello/versions`, { key });
      expect(again.status).toBe(200);
      expect(await json(again)).toMatchObject({ version: 1, hash: version.hash });
      expect((await counts(app)).versions).toBe(1);

      await app.request('PATCH', '/v1/workflows/hello/draft', { key, json: { spec: hello('v2') } });
      expect(await json(await app.request('POST', '/v1/workflows/hello/versions', { key }))).toMatchObject({ version: 2 });
      expect(await json(await app.request('GET', '/v1/workflows/hello/versions', { key }))).toMatchObject({ items: [{ version: 2 }, { version: 1 }] });
      expect(await json(await app.request('GET', '/v1/workflows/hello/versions/2', { key }))).toMatchObject({ version: 2, spec: hello('v2') });

      expect(await json(await app.request('POST', '/v1/workflows/hello/versions/1/publish', { key }))).toMatchObject({ publishedVersion: 1, latestVersion: 2 });
      await expectProblem(await app.request('POST', '/v1/workflows/hello/versions/1/archive', { key }), 409, 'VERSION_PUBLISHED');
      expect(await json(await app.request('POST', '/v1/workflows/hello/versions/2/archive', { key }))).toMatchObject({ version: 2, archived: true });
      await expectProblem(await app.request('POST', '/v1/workflows/hello/versions/2/publish', { key }), 409, 'VERSION_ARCHIVED');
      await expectProblem(await app.request('POST', '/v1/workflows/hello/runs', { key, json: { version: 2 } }), 409, 'VERSION_ARCHIVED');

      const patched = await app.request('PATCH', '/v1/workflows/hello', { key, json: { description: 'greets' } });
      expect(await json(patched)).toMatchObject({ description: 'greets' });
      expect(await json(await app.request('GET', '/v1/workflows', { key }))).toMatchObject({ items: [{ name: 'hello' }], nextCursor: null });
      expect((await app.request('DELETE', '/v1/workflows/hello', { key })).status).toBe(204);
      await expectProblem(await app.request('GET', '/v1/workflows/hello', { key }), 404, 'WORKFLOW_NOT_FOUND');
      expect(await counts(app)).toMatchObject({ workflows: 0, versions: 0 });
    });

    it('rejects an invalid draft with the diagnostics of weft validate (lines from YAML text) and changes nothing', async () => {
      await app.request('POST', '/v1/workflows', { key, json: { spec: hello() } });
      const before = await counts(app);
      const yaml = 'apiVersion: weft/v1\nkind: Workflow\nname: hello\nsteps:\n  - id: a\n    action: noop\n    needs: [ghost]\n  - id: b\n    action: noop\n    with: { x: "${{ steps.zz.output }}" }\n';
      const response = await app.request('PATCH', '/v1/workflows/hello/draft', { key, json: { source: yaml } });
      const problem = await expectProblem(response, 422, 'INVALID_SPEC');
      const expected = parseWorkflow(yaml, '').diagnostics.filter((d) => d.severity === 'error');
      expect(expected.length).toBeGreaterThanOrEqual(2);
      expect(problem.errors).toEqual(expected.map((d) => expect.objectContaining({ path: d.path, message: d.message, code: d.code, line: d.line, col: d.col })));
      expect(problem.errors).toContainEqual(expect.objectContaining({ path: 'steps[0].needs[0]', line: 7 }));
      expect(await counts(app)).toEqual(before);

      // A spec named after another workflow is refused too.
      const renamed = await app.request('PATCH', '/v1/workflows/hello/draft', { key, json: { spec: { ...hello(), name: 'other' } } });
      expect((await expectProblem(renamed, 422, 'INVALID_SPEC')).errors).toEqual([expect.objectContaining({ path: 'name', code: 'NAME_MISMATCH' })]);
      // And POST /v1/validate answers with the same diagnostics, 200 either way.
      const validated = await json(await app.request('POST', '/v1/validate', { key, json: { source: yaml } }));
      expect(validated).toMatchObject({ valid: false, name: null });
      expect((validated.diagnostics as unknown[]).length).toBe(parseWorkflow(yaml, '').diagnostics.length);
      expect(await json(await app.request('POST', '/v1/validate', { key, json: { spec: hello() } }))).toEqual({ valid: true, name: 'hello', diagnostics: [] });
      expect(await counts(app)).toEqual(before);
    });
  });

  describe('runs', () => {
    it('runs the published version: sync returns outputs, async answers 202 with a Location; the run records its version', async () => {
      await publish();
      const sync = await app.request('POST', '/v1/workflows/hello/runs?mode=sync&wait=20s', { key, json: { inputs: { who: 'weft' } } });
      expect(sync.status).toBe(200);
      const run = await json<{ runId: string }>(sync);
      expect(run).toMatchObject({ status: 'completed', version: '1', workflow: 'hello', outputs: { greeting: 'hello weft' }, inputs: { who: 'weft' } });
      expect(sync.headers.get('location')).toBe(`/v1/runs/${run.runId}`);
      expect(await app.query('SELECT version, namespace FROM runs WHERE id = $1', [run.runId])).toEqual([{ version: '1', namespace: 'default' }]);

      const started = Date.now();
      const async = await app.request('POST', '/v1/workflows/hello/runs', { key, json: {} });
      expect(async.status).toBe(202);
      const accepted = await json<{ runId: string; location: string }>(async);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(async.headers.get('location')).toBe(accepted.location);
      const done = await waitFor(
        async () => {
          const current = await json<{ status: string }>(await app.request('GET', accepted.location, { key }));
          return current.status === 'completed' && current;
        },
        { timeoutMs: 15_000, what: 'the async run to complete' },
      );
      expect(done).toMatchObject({ steps: [{ id: 'greet', status: 'completed', attempts: 1 }, { id: 'say', status: 'completed' }] });
      expect(await json(await app.request('GET', `${accepted.location}/output`, { key }))).toEqual({
        runId: accepted.runId,
        status: 'completed',
        outputs: { greeting: 'hello world' },
        error: null,
      });
    });

    it('answers an Idempotency-Key with the same run, once', async () => {
      await publish();
      const first = await app.request('POST', '/v1/workflows/hello/runs', { key, json: {}, headers: { 'Idempotency-Key': 'order-42' } });
      const second = await app.request('POST', '/v1/workflows/hello/runs', { key, json: { inputs: { who: 'ignored' } }, headers: { 'Idempotency-Key': 'order-42' } });
      const a = await json<{ runId: string; created: boolean }>(first);
      const b = await json<{ runId: string; created: boolean }>(second);
      expect(a.created).toBe(true);
      expect(b).toMatchObject({ runId: a.runId, created: false });
      expect(second.headers.get('idempotent-replayed')).toBe('true');
      expect(await app.query("SELECT id FROM runs WHERE idempotency_key = 'order-42'")).toEqual([{ id: a.runId }]);
    });

    it('rejects inputs that do not fit with errors[] and starts nothing', async () => {
      await publish();
      const response = await app.request('POST', '/v1/workflows/hello/runs', { key, json: { inputs: { who: 5, extra: true } } });
      const problem = await expectProblem(response, 422, 'INVALID_INPUTS');
      expect(problem.errors).toEqual(
        expect.arrayContaining([expect.objectContaining({ path: 'inputs.who', code: 'INPUT_TYPE' }), expect.objectContaining({ path: 'inputs.extra', code: 'INPUT_UNKNOWN' })]),
      );
      expect((await counts(app)).runs).toBe(0);
    });

    it('streams an ad-hoc run as Server-Sent Events: snapshot, lifecycle events, end', async () => {
      const response = await app.request('POST', '/v1/runs/adhoc?stream=true', { key, json: { spec: hello(), inputs: { who: 'sse' } } });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const events = await readSse(response, { timeoutMs: 20_000 });
      expect(events[0]).toMatchObject({ event: 'snapshot', data: { workflow: 'hello', version: 'adhoc' } });
      const last = events[events.length - 1];
      expect(last).toMatchObject({ event: 'end', data: { status: 'completed', outputs: { greeting: 'hello sse' } } });
      const lifecycle = events.filter((e) => e.event === 'message').map((e) => (e.data as { type: string; stepId?: string }).type + (((e.data as { stepId?: string }).stepId ?? '') && `:${(e.data as { stepId: string }).stepId}`));
      // The snapshot holds what happened before it, the stream only what came after (by seq): each step
      // completes exactly once across the two (a fast run may finish `greet` before the snapshot is read).
      const snapshot = events[0].data as { status: string; steps: { id: string; status: string }[] };
      for (const id of ['greet', 'say']) {
        const before = snapshot.steps.find((step) => step.id === id)?.status === 'completed';
        expect({ id, after: lifecycle.filter((e) => e === `step.completed:${id}`).length }).toEqual({ id, after: before ? 0 : 1 });
      }
      expect(lifecycle.filter((e) => e === 'run.completed')).toHaveLength(snapshot.status === 'completed' ? 0 : 1);
      if (lifecycle.includes('step.completed:greet')) expect(lifecycle.indexOf('step.completed:greet')).toBeLessThan(lifecycle.indexOf('step.completed:say'));
      // Each lifecycle event carries its id, and none repeats.
      const ids = events.filter((e) => e.event === 'message').map((e) => e.id);
      expect(new Set(ids).size).toBe(ids.length);
      // Following the finished run afterwards: a snapshot and the end at once.
      const runId = (last.data as { runId: string }).runId;
      const replay = await readSse(await app.request('GET', `/v1/runs/${runId}/stream`, { key }));
      expect(replay.map((e) => e.event)).toEqual(['snapshot', 'end']);
    });

    it('lists runs newest first with filters and cursor pages', async () => {
      await publish();
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await json<{ runId: string }>(await app.request('POST', '/v1/workflows/hello/runs?mode=sync', { key, json: {} }))).runId);
      const adhoc = await json<{ runId: string }>(await app.request('POST', '/v1/runs/adhoc?mode=sync', { key, json: { spec: { ...hello(), name: 'other' } } }));
      const page1 = await json<{ items: { runId: string }[]; nextCursor: string }>(await app.request('GET', '/v1/runs?workflow=hello&limit=2', { key }));
      expect(page1.items.map((r) => r.runId)).toEqual([ids[4], ids[3]]);
      const page2 = await json<{ items: { runId: string }[]; nextCursor: string }>(await app.request('GET', `/v1/runs?workflow=hello&limit=2&cursor=${page1.nextCursor}`, { key }));
      expect(page2.items.map((r) => r.runId)).toEqual([ids[2], ids[1]]);
      const page3 = await json<{ items: { runId: string }[]; nextCursor: string | null }>(await app.request('GET', `/v1/runs?workflow=hello&limit=2&cursor=${page2.nextCursor}`, { key }));
      expect(page3).toEqual({ items: [expect.objectContaining({ runId: ids[0], status: 'completed', version: '1' })], nextCursor: null });
      const all = await json<{ items: { runId: string }[] }>(await app.request('GET', '/v1/runs?status=completed,failed&since=1h', { key }));
      expect(all.items.map((r) => r.runId)).toEqual([adhoc.runId, ...[...ids].reverse()]);
      expect((await json<{ items: unknown[] }>(await app.request('GET', '/v1/runs?status=failed', { key }))).items).toEqual([]);
      expect((await json<{ items: unknown[] }>(await app.request('GET', `/v1/runs?until=${encodeURIComponent(new Date(Date.now() - 3_600_000).toISOString())}`, { key }))).items).toEqual([]);
      const bad = await expectProblem(await app.request('GET', '/v1/runs?status=done&limit=0&cursor=zzz', { key }), 400, 'INVALID_REQUEST');
      expect((bad.errors as { path: string }[]).map((e) => e.path).sort()).toEqual(['query.cursor', 'query.limit', 'query.status']);
    });

    it('cancels a running run (409 once it ended), and retries a failed one to completion', async () => {
      const sleeping = await json<{ runId: string }>(await app.request('POST', '/v1/runs/adhoc', { key, json: { spec: sleeper } }));
      await waitFor(async () => (await app.store.getRun(sleeping.runId))?.steps.nap?.status === 'waiting', { timeoutMs: 10_000, what: 'the nap (a durable sleep) to start' });
      const canceled = await app.request('POST', `/v1/runs/${sleeping.runId}/cancel`, { key, json: { reason: 'enough' } });
      expect(await json(canceled)).toMatchObject({ status: 'canceled', error: { code: 'CANCELED', message: 'enough' }, steps: [{ id: 'nap', status: 'canceled' }] });
      // Canceling again is harmless.
      expect((await app.request('POST', `/v1/runs/${sleeping.runId}/cancel`, { key })).status).toBe(200);

      const flakySpec = { apiVersion: 'weft/v1', kind: 'Workflow', name: 'flaky-flow', steps: [{ id: 'try', action: 'flaky' }, { id: 'after', needs: ['try'], action: 'noop' }] };
      const failed = await json<{ runId: string; status: string }>(await app.request('POST', '/v1/runs/adhoc?mode=sync', { key, json: { spec: flakySpec } }));
      expect(failed.status).toBe('failed');
      await expectProblem(await app.request('POST', `/v1/runs/${failed.runId}/cancel`, { key }), 409, 'RUN_FINISHED');
      const retried = await app.request('POST', `/v1/runs/${failed.runId}/retry`, { key });
      expect(await json(retried)).toMatchObject({ status: 'running' });
      const done = await waitFor(async () => (await app.store.getRun(failed.runId))?.status === 'completed', { timeoutMs: 15_000, what: 'the retried run to complete' });
      expect(done).toBe(true);
      await expectProblem(await app.request('POST', `/v1/runs/${failed.runId}/retry`, { key }), 409, 'RUN_NOT_RETRYABLE');
      await expectProblem(await app.request('POST', `/v1/runs/${failed.runId}/resume`, { key }), 409, 'RUN_NOT_RESUMABLE');
    });

    it('resumes a stuck run: re-dispatches the step in flight and flushes a pending retry', async () => {
      const spec = {
        apiVersion: 'weft/v1',
        kind: 'Workflow',
        name: 'stuck',
        steps: [
          { id: 'stuck', action: 'hang-once' },
          { id: 'later', action: 'flaky', retry: { maxAttempts: 2, initialInterval: '1h', maxInterval: '1h', jitter: false } },
        ],
      };
      const { runId } = await json<{ runId: string }>(await app.request('POST', '/v1/runs/adhoc', { key, json: { spec } }));
      await waitFor(
        async () => {
          const state = await app.store.getRun(runId);
          return state?.steps.stuck?.status === 'running' && state.steps.later?.status === 'retrying';
        },
        { timeoutMs: 10_000, what: 'one step hanging and one waiting an hour for its retry' },
      );
      const resumed = await app.request('POST', `/v1/runs/${runId}/resume`, { key });
      expect(await json(resumed)).toMatchObject({ redispatched: ['stuck'], flushed: ['later'], run: { status: 'running' } });
      const state = await waitFor(async () => {
        const current = await app.store.getRun(runId);
        return current?.status === 'completed' && current;
      }, { timeoutMs: 15_000, what: 'the resumed run to complete' });
      expect(state.steps.stuck).toMatchObject({ status: 'completed', attempt: 2, output: { attempt: 2 }, lostLeases: 1 });
      expect(state.steps.later).toMatchObject({ status: 'completed', attempt: 2 });
      expect(await app.query("SELECT * FROM timers WHERE run_id = $1 AND timer = 'retry'", [runId])).toEqual([]);
    });

    it('reruns from a step: a new linked run reuses the outputs upstream, optionally on a newer version', async () => {
      const chain = (tag: string) => ({
        apiVersion: 'weft/v1',
        kind: 'Workflow',
        name: 'chain',
        steps: [
          { id: 'a', action: 'counted', with: { label: 'a' } },
          { id: 'b', needs: ['a'], action: 'counted', with: { label: 'b' } },
          { id: 'c', needs: ['b'], action: 'counted', with: { label: `c-${tag}` } },
        ],
        outputs: { c: '${{ steps.c.output.label }}', a: '${{ steps.a.output.count }}' },
      });
      executions.clear();
      await publish(chain('one'));
      const first = await json<{ runId: string }>(await app.request('POST', '/v1/workflows/chain/runs?mode=sync', { key, json: {} }));
      const rerun = await app.request('POST', `/v1/runs/${first.runId}/rerun?from=b&mode=sync`, { key });
      expect(rerun.status).toBe(200);
      const second = await json<{ runId: string; steps: { id: string; reusedFrom: string | null; attempts: number }[] }>(rerun);
      expect(second).toMatchObject({ status: 'completed', version: '1', rerunOf: { runId: first.runId, fromStep: 'b' }, outputs: { c: 'c-one', a: 1 } });
      expect(second.steps.map((s) => [s.id, s.reusedFrom, s.attempts])).toEqual([
        ['a', first.runId, 0],
        ['b', null, 1],
        ['c', null, 1],
      ]);
      expect(executions.get('chain:a')).toBe(1);
      expect(executions.get('chain:b')).toBe(2);
      expect(await app.query('SELECT source_run_id, from_step, kind FROM run_links WHERE run_id = $1', [second.runId])).toEqual([
        { source_run_id: first.runId, from_step: 'b', kind: 'rerun' },
      ]);

      // A newer version: publish v2 and rerun only c on it.
      await app.request('PATCH', '/v1/workflows/chain/draft', { key, json: { spec: chain('two') } });
      await app.request('POST', '/v1/workflows/chain/versions', { key });
      const onV2 = await json(await app.request('POST', `/v1/runs/${first.runId}/rerun?from=c&mode=sync`, { key, json: { version: 2 } }));
      expect(onV2).toMatchObject({ status: 'completed', version: '2', outputs: { c: 'c-two', a: 1 } });
      expect(executions.get('chain:a')).toBe(1);
      expect(executions.get('chain:b')).toBe(2);

      const before = await counts(app);
      const unknownStep = await expectProblem(await app.request('POST', `/v1/runs/${first.runId}/rerun?from=nope`, { key }), 400, 'INVALID_REQUEST');
      expect(unknownStep.errors).toEqual([expect.objectContaining({ path: 'query.from' })]);
      const adhoc = await json<{ runId: string }>(await app.request('POST', '/v1/runs/adhoc?mode=sync', { key, json: { spec: { ...chain('x'), name: 'loose' } } }));
      await expectProblem(await app.request('POST', `/v1/runs/${adhoc.runId}/rerun`, { key, json: { version: 1 } }), 409, 'RERUN_NOT_POSSIBLE');
      expect((await counts(app)).runs).toBe(before.runs + 1);
    });
  });

  describe('catalog', () => {
    it('lists built-in actions with input schemas and the ones live workers announce', async () => {
      const catalog = await waitFor(
        async () => {
          const body = await json<{ items: { name: string; builtin: boolean; workers: number }[] }>(await app.request('GET', '/v1/catalog/actions', { key }));
          return body.items.some((a) => a.name === 'counted') && body;
        },
        { timeoutMs: 5_000, what: 'the worker to announce counted' },
      );
      expect(catalog.items.find((a) => a.name === 'counted')).toEqual({
        name: 'counted',
        description: 'Counts its executions',
        inputSchema: { type: 'object', properties: { label: { type: 'string' } } },
        builtin: false,
        workers: 1,
        queues: ['*'],
      });
      expect(catalog.items.find((a) => a.name === 'http.request')).toMatchObject({ builtin: true, workers: 1, inputSchema: { type: 'object' } });
      expect(await json(await app.request('GET', '/v1/catalog/templates', { key }))).toEqual({ items: [] });
    });
  });

  describe('errors are problem documents, and change nothing', () => {
    it('malformed JSON, wrong content type, oversize body, unknown route and ids, schema violations', async () => {
      await publish();
      const before = await counts(app);
      await expectProblem(await app.request('POST', '/v1/workflows', { key, body: '{"spec": ', headers: { 'Content-Type': 'application/json' } }), 400, 'MALFORMED_JSON');
      await expectProblem(await app.request('POST', '/v1/workflows', { key, body: 'name: x', headers: { 'Content-Type': 'application/yaml' } }), 415, 'UNSUPPORTED_MEDIA_TYPE');
      await expectProblem(await app.request('POST', '/v1/workflows', { key, body: '{}', headers: { 'Content-Type': 'text/plain' } }), 415, 'UNSUPPORTED_MEDIA_TYPE');
      const big = { spec: { ...hello(), description: 'x'.repeat(20_000) } };
      await expectProblem(await app.request('POST', '/v1/workflows', { key, json: big }), 413, 'PAYLOAD_TOO_LARGE');
      await expectProblem(await app.request('GET', '/v1/no-such-thing', { key }), 404, 'ROUTE_NOT_FOUND');
      await expectProblem(await app.request('GET', '/v1/runs/no-such-run', { key }), 404, 'RUN_NOT_FOUND');
      await expectProblem(await app.request('POST', '/v1/runs/no-such-run/cancel', { key }), 404, 'RUN_NOT_FOUND');
      await expectProblem(await app.request('GET', '/v1/workflows/no-such-flow', { key }), 404, 'WORKFLOW_NOT_FOUND');
      await expectProblem(await app.request('GET', '/v1/workflows/hello/versions/9', { key }), 404, 'VERSION_NOT_FOUND');
      const schema = await expectProblem(await app.request('POST', '/v1/workflows/hello/runs?mode=later', { key, json: { inputs: [], extra: 1 } }), 400, 'INVALID_REQUEST');
      expect(schema.errors).toEqual(
        expect.arrayContaining([expect.objectContaining({ path: 'query.mode' })]),
      );
      const body = await expectProblem(await app.request('POST', '/v1/workflows/hello/runs', { key, json: { inputs: [], extra: 1 } }), 400, 'INVALID_REQUEST');
      expect((body.errors as { path: string }[]).map((e) => e.path).sort()).toEqual(['body', 'body.inputs']);
      await expectProblem(await app.request('POST', '/v1/workflows', { key, json: { spec: hello(), source: 'x' } }), 400, 'INVALID_REQUEST');
      await expectProblem(await app.request('PATCH', '/v1/workflows/hello/draft', { key, json: { spec: hello() }, headers: { 'If-Match': 'yesterday' } }), 400, 'INVALID_REQUEST');
      expect(await counts(app)).toEqual(before);
    });

    it('401 for a missing, malformed, unknown, wrong or revoked key; nothing changes', async () => {
      const before = await counts(app);
      await expectProblem(await app.request('POST', '/v1/workflows', { json: { spec: hello() } }), 401, 'UNAUTHORIZED');
      await expectProblem(await app.request('POST', '/v1/workflows', { json: { spec: hello() }, headers: { Authorization: 'Basic abc' } }), 401, 'UNAUTHORIZED');
      await expectProblem(await app.request('POST', '/v1/workflows', { key: 'not-a-key', json: { spec: hello() } }), 401, 'UNAUTHORIZED');
      const [, id] = key.split('_');
      await expectProblem(await app.request('POST', '/v1/workflows', { key: `weft_${id}_${'A'.repeat(43)}`, json: { spec: hello() } }), 401, 'UNAUTHORIZED');
      await expectProblem(await app.request('POST', '/v1/workflows', { key: `weft_0123456789ab_${'A'.repeat(43)}`, json: { spec: hello() } }), 401, 'UNAUTHORIZED');
      // Refused before the gate ran (the body parser's 400 and 413): still 401 first, nothing said about the body.
      await expectProblem(await app.request('POST', '/v1/workflows', { body: '{"spec": ', headers: { 'Content-Type': 'application/json' } }), 401, 'UNAUTHORIZED');
      await expectProblem(await app.request('POST', '/v1/workflows', { json: { spec: { ...hello(), description: 'x'.repeat(20_000) } } }), 401, 'UNAUTHORIZED');
      await expectProblem(await app.request('POST', '/v1/workflows', { body: 'name: x', headers: { 'Content-Type': 'application/yaml' } }), 401, 'UNAUTHORIZED');
      expect(await counts(app)).toEqual(before);
      const other = await app.key();
      expect((await app.request('DELETE', `/v1/keys/${other.split('_')[1]}`, { key })).status).toBe(200);
      await expectProblem(await app.request('GET', '/v1/workflows', { key: other }), 401, 'UNAUTHORIZED');
      // The document itself needs no key.
      expect((await app.request('GET', '/openapi.json')).status).toBe(200);
    });

    it('another namespace\'s workflows and runs do not exist for a key (404), and stay as they were', async () => {
      await publish();
      const run = await json<{ runId: string }>(await app.request('POST', '/v1/runs/adhoc', { key, json: { spec: sleeper } }));
      const stranger = await app.key('team-b');
      const before = await counts(app);
      await expectProblem(await app.request('GET', `/v1/runs/${run.runId}`, { key: stranger }), 404, 'RUN_NOT_FOUND');
      await expectProblem(await app.request('POST', `/v1/runs/${run.runId}/cancel`, { key: stranger }), 404, 'RUN_NOT_FOUND');
      await expectProblem(await app.request('GET', `/v1/runs/${run.runId}/stream`, { key: stranger }), 404, 'RUN_NOT_FOUND');
      // Routes under a run that other services serve (the journal's) are guarded too.
      await expectProblem(await app.request('GET', `/v1/runs/${run.runId}/history`, { key: stranger }), 404, 'RUN_NOT_FOUND');
      await expectProblem(await app.request('POST', `/v1/runs/${run.runId}/rerun`, { key: stranger }), 404, 'RUN_NOT_FOUND');
      await expectProblem(await app.request('GET', '/v1/workflows/hello', { key: stranger }), 404, 'WORKFLOW_NOT_FOUND');
      await expectProblem(await app.request('POST', '/v1/workflows/hello/runs', { key: stranger, json: {} }), 404, 'WORKFLOW_NOT_FOUND');
      await expectProblem(await app.request('DELETE', '/v1/workflows/hello', { key: stranger }), 404, 'WORKFLOW_NOT_FOUND');
      expect((await json<{ items: unknown[] }>(await app.request('GET', '/v1/runs', { key: stranger }))).items).toEqual([]);
      expect((await json<{ items: unknown[] }>(await app.request('GET', '/v1/workflows', { key: stranger }))).items).toEqual([]);
      expect(await counts(app)).toEqual(before);
      expect((await app.store.getRun(run.runId))?.status).toBe('waiting');
      // The same name in its own namespace is a different workflow.
      expect((await app.request('POST', '/v1/workflows', { key: stranger, json: { spec: hello() } })).status).toBe(201);
      expect(await app.query('SELECT namespace FROM workflows ORDER BY namespace')).toEqual([{ namespace: 'default' }, { namespace: 'team-b' }]);
      await app.request('POST', `/v1/runs/${run.runId}/cancel`, { key });
    });
  });

  describe('keys and the OpenAPI document', () => {
    it('a key makes keys for its own namespace only; listing never shows the key', async () => {
      const made = await app.request('POST', '/v1/keys', { key, json: { name: 'ci' } });
      expect(made.status).toBe(201);
      const created = await json<{ key: string; keyId: string }>(made);
      expect(created).toMatchObject({ namespace: 'default', name: 'ci', revokedAt: null, key: expect.stringMatching(/^weft_[0-9a-f]{12}_/) });
      expect(created.key.split('_')[1]).toBe(created.keyId);
      expect(await app.query('SELECT hash FROM api_keys WHERE id = $1', [created.keyId])).toEqual([{ hash: expect.not.stringContaining(created.key) }]);
      const listed = await json<{ items: Record<string, unknown>[] }>(await app.request('GET', '/v1/keys', { key: created.key }));
      expect(listed.items).toHaveLength(2);
      expect(JSON.stringify(listed)).not.toContain(created.key);
      await expectProblem(await app.request('POST', '/v1/keys', { key, json: { namespace: 'team-b' } }), 403, 'FORBIDDEN');
      expect((await counts(app)).keys).toBe(2);
    });

    it('weft keys create writes a key straight to the database; the API takes it for that namespace', async () => {
      const environment: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: POSTGRES_TEST_URL, WEFT_DB_SCHEMA: app.schema, NO_COLOR: '1' };
      delete environment.WEFT_API_URL;
      const made = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
        const child = spawn(process.execPath, [join(__dirname, '..', '..', 'libs', 'cli', 'bin', 'weft.js'), 'keys', 'create', '--namespace', 'ops', '--name', 'from-cli'], { env: environment });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      });
      expect(made.code).toBe(0);
      const cliKey = made.stdout.trim();
      expect(cliKey).toMatch(/^weft_[0-9a-f]{12}_/);
      expect(await app.query('SELECT namespace, name FROM api_keys WHERE id = $1', [cliKey.split('_')[1]])).toEqual([{ namespace: 'ops', name: 'from-cli' }]);
      expect(await json(await app.request('POST', '/v1/workflows', { key: cliKey, json: { spec: hello() } }))).toMatchObject({ namespace: 'ops' });
    }, 60_000);

    it('serves an OpenAPI 3.1 document with every route, whose references all resolve', async () => {
      const doc = await json<{ openapi: string; paths: Record<string, Record<string, unknown>>; components: { schemas: Record<string, unknown> } }>(
        await app.request('GET', '/openapi.json'),
      );
      expect(doc.openapi).toBe('3.1.0');
      for (const route of ROUTE_LIST) expect(doc.paths[route.path]?.[route.method]).toBeDefined();
      const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]);
      expect(refs.length).toBeGreaterThan(20);
      for (const ref of new Set(refs)) expect(doc.components.schemas[ref]).toBeDefined();
    });

    it('removes its per-process event consumer when it stops', async () => {
      const nc = await connect({ servers: NATS_TEST_URL, name: 'weft-api-test-check' });
      try {
        const jsm = await jetstreamManager(nc);
        const consumer = `${app.eventsGroup}__weft_event_ALL`;
        expect((await jsm.consumers.info(app.eventsStream, consumer)).name).toBe(consumer);
        await app.stop();
        await expect(jsm.consumers.info(app.eventsStream, consumer)).rejects.toThrow(/consumer not found/i);
      } finally {
        await nc.close();
      }
    });
  });
});

describeDistributed('control-plane API in dev mode (anonymous on loopback)', { nats: true, postgres: true }, () => {
  let app: ApiApp;

  beforeAll(async () => {
    app = await startApiApp({
      anonymous: true,
      templates: () => [{ name: 'hello', description: 'Says hello', spec: hello() }],
    });
  }, 30_000);

  afterAll(async () => {
    await app?.close();
  }, 30_000);

  it('acts in namespace default without a key, still refuses a wrong key, and makes keys for default only (issue 12)', async () => {
    const created = await app.request('POST', '/v1/workflows', { json: { spec: hello() } });
    expect(await json(created)).toMatchObject({ namespace: 'default' });
    await expectProblem(await app.request('GET', '/v1/workflows', { key: 'weft_0123456789ab_nope' }), 401, 'UNAUTHORIZED');
    await expectProblem(await app.request('POST', '/v1/keys', { json: { namespace: 'team-c' } }), 403, 'FORBIDDEN');
    const made = await json<{ key: string; namespace: string }>(await app.request('POST', '/v1/keys', { json: {} }));
    expect(made.namespace).toBe('default');
    expect((await json<{ items: { name: string }[] }>(await app.request('GET', '/v1/workflows', { key: made.key }))).items.map((w) => w.name)).toEqual(['hello']);
    expect(await json(await app.request('GET', '/v1/catalog/templates'))).toEqual({ items: [{ name: 'hello', description: 'Says hello', spec: hello() }] });
  });
});
