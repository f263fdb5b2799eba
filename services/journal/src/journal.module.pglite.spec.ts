import { eventSubject, type LifecycleEvent } from '@weft/contracts';
import { projectionOnPglite } from '@weft/platform/testing';
import { lifecycleEvent, storyOfARun, waitFor } from './testing/journal.fixtures';
import type { Checkpoint, EventPage, RunHistory, RunReconstruction } from './domain/journal.types';
import { JournalModule } from './journal.module';
import { openJournalStore } from './persistence/sql-journal.store';

/** An RFC 7807 answer: its status, content type and whole problem document (the type URN follows the code: RUN_NOT_FOUND, run-not-found). */
const problemAnswer = (status: number, title: string, code: string, detail: unknown, instance: string) => ({
  status,
  type: expect.stringMatching(/^application\/problem\+json/),
  body: { type: `urn:weft:problem:${code.toLowerCase().replaceAll('_', '-')}`, title, status, detail, instance, code },
});

/** The journal as `weft dev` runs it: the module on PGlite and the in-memory bus, queried over HTTP. */
describe('JournalModule (PGlite, in-memory bus, HTTP)', () => {
  const service = projectionOnPglite('journal', openJournalStore, ({ bus, store, auth }) => {
    const module = JournalModule.forRoot({ bus, store, retention: { maxAgeMs: 3650 * 86_400_000, intervalMs: 60_000 }, auth });
    return { module, readiness: JournalModule.readiness(module) };
  });
  const { tenants, get } = service;
  const runId = 'run-http-1';
  const publish = (event: LifecycleEvent, msgId = event.eventId) => service.bus.publish(eventSubject(event.type), event, { msgId });

  it('journals what the bus delivers (duplicates once, unrecordable events dead-lettered) and serves it over HTTP', async () => {
    const story = storyOfARun(runId);
    for (const event of story) await publish(event);
    await publish(story[4], 'same-event-other-msg-id');
    await publish(lifecycleEvent(runId, 99, 0, 5000, { type: 'step.failed', status: 'failed' }));
    await waitFor(async () => (await service.store.runEvents(runId)).length === story.length && (await service.bus.deadLetters()).length === 1, 'the run journaled');

    const history = await get(`/v1/runs/${runId}/history`);
    expect(history.status).toBe(200);
    const body = history.body as RunHistory;
    expect(body.run).toMatchObject({ runId, status: 'partially_completed', workflow: 'data-pipeline', version: '3' });
    expect(body.timeline.map((t) => t.type)).toEqual(story.map((e) => e.type));
    expect(body.steps.find((s) => s.stepId === 'validate')?.output).toEqual({ valid: true });

    const reconstruction = (await get(`/v1/runs/${runId}/reconstruct`)).body as RunReconstruction;
    expect(reconstruction.events).toHaveLength(story.length);
    expect(reconstruction.checkpoints.map((c) => c.stepId)).toEqual(['ingest', 'validate']);

    const failures = (await get(`/v1/runs/${runId}/events?type=step.retrying,step.failed`)).body as EventPage;
    expect(failures.items.map((e) => e.type)).toEqual(['step.retrying', 'step.failed']);
    const page = (await get(`/v1/runs/${runId}/events?limit=5`)).body as EventPage;
    expect(page.items).toHaveLength(5);
    const next = (await get(`/v1/runs/${runId}/events?limit=50&after=${page.nextCursor ?? ''}`)).body as EventPage;
    expect([...page.items, ...next.items].map((e) => e.eventId)).toEqual(story.map((e) => e.eventId));

    expect(((await get(`/v1/runs/${runId}/checkpoints`)).body as Checkpoint[]).map((c) => c.stepId)).toEqual(['ingest', 'validate']);
    expect(((await get(`/v1/runs/${runId}/checkpoints/validate`)).body as Checkpoint).state).toEqual({ ingest: { rows: 3 }, validate: { valid: true } });

    const across = (await get('/v1/events?workflow=data-pipeline&type=run.partially_completed&since=2026-01-05T00:00:00Z&until=2026-01-06T00:00:00Z')).body as EventPage;
    expect(across.items.map((e) => e.runId)).toEqual([runId]);
    expect(((await get('/v1/events?workflow=data-pipeline&since=1h')).body as EventPage).items).toEqual([]);
  }, 30_000);

  it('answers errors as RFC 7807 problem details', async () => {
    const unknownRun = await get('/v1/runs/no-such-run/history');
    expect(unknownRun).toEqual(problemAnswer(404, 'Not Found', 'RUN_NOT_FOUND', 'the journal has no entry for run no-such-run', '/v1/runs/no-such-run/history'));
    await waitFor(async () => (await service.store.runEvents(runId)).length > 0, 'the run journaled');
    expect(await get(`/v1/runs/${runId}/checkpoints/notify`)).toMatchObject({ status: 404, body: { code: 'CHECKPOINT_NOT_FOUND' } });
    expect(await get('/v1/runs/no-such-run/checkpoints')).toMatchObject({ status: 404, body: { code: 'RUN_NOT_FOUND' } });
    expect(await get('/v1/events?since=last-tuesday')).toMatchObject({ status: 400, body: { code: 'INVALID_QUERY', detail: expect.stringMatching(/^since:/) } });
    expect(await get('/v1/events?type=step.exploded')).toMatchObject({ status: 400, body: { code: 'INVALID_QUERY' } });
    expect(await get(`/v1/runs/${runId}/events?workflow=x`)).toMatchObject({ status: 400, body: { code: 'INVALID_QUERY' } });
    // Path ids have a maximum (issue 12): 201+ characters are 400 naming the parameter, not a query.
    const long = 'r'.repeat(3_000);
    for (const path of [`/v1/runs/${long}/history`, `/v1/runs/${long}/events`, `/v1/runs/${long}/checkpoints`, `/v1/runs/${long}/reconstruct`, `/v1/runs/${long}/checkpoints/ingest`]) {
      expect(await get(path)).toMatchObject({ status: 400, body: { code: 'INVALID_QUERY', detail: expect.stringMatching(/^path\.id: must be 1 to 200 characters/) } });
    }
    expect(await get(`/v1/runs/${runId}/checkpoints/${'s'.repeat(201)}`)).toMatchObject({ status: 400, body: { code: 'INVALID_QUERY', detail: expect.stringMatching(/^path\.stepId:/) } });
    expect(await get(`/v1/runs/${'r'.repeat(200)}/history`)).toMatchObject({ status: 404, body: { code: 'RUN_NOT_FOUND' } });
  });

  it('confines every answer to the namespace of the caller\'s key; no key or a wrong one is 401', async () => {
    const other = 'run-b-1';
    for (const event of storyOfARun(other)) await publish({ ...event, namespace: 'team-b' });
    await waitFor(async () => (await service.store.runEvents(other)).length === storyOfARun(other).length && (await service.store.runEvents(runId)).length > 0, 'both runs journaled');
    const teamB = tenants.keyOf('team-b');

    for (const path of ['history', 'reconstruct', 'events', 'checkpoints', 'checkpoints/ingest']) {
      // Another namespace's run is answered exactly like a run that never was.
      expect(await get(`/v1/runs/${other}/${path}`)).toMatchObject({ status: 404, body: { code: 'RUN_NOT_FOUND', detail: `the journal has no entry for run ${other}` } });
      expect(await get(`/v1/runs/${runId}/${path}`, teamB)).toMatchObject({ status: 404, body: { code: 'RUN_NOT_FOUND' } });
    }
    expect(await get(`/v1/runs/${other}/history`, teamB)).toMatchObject({ status: 200, body: { run: { runId: other, status: 'partially_completed' } } });
    expect(((await get(`/v1/runs/${other}/checkpoints`, teamB)).body as Checkpoint[]).map((c) => c.stepId)).toEqual(['ingest', 'validate']);

    // The same workflow name in both namespaces: each sees its own runs only.
    const runsIn = async (key: string) => [...new Set(((await get('/v1/events?workflow=data-pipeline&since=2026-01-05T00:00:00Z&until=2026-01-06T00:00:00Z', key)).body as EventPage).items.map((e) => e.runId))];
    expect(await runsIn(tenants.keyOf('default'))).toEqual([runId]);
    expect(await runsIn(teamB)).toEqual([other]);
    expect(((await get(`/v1/events?runId=${other}`)).body as EventPage).items).toEqual([]);

    const missing = await get(`/v1/runs/${runId}/history`, null);
    expect(missing).toEqual(problemAnswer(401, 'Unauthorized', 'UNAUTHORIZED', expect.stringContaining('an API key is required'), `/v1/runs/${runId}/history`));
    expect(await get('/v1/events', `${teamB.slice(0, -1)}x`)).toMatchObject({ status: 401, body: { code: 'UNAUTHORIZED', detail: 'the API key is not valid' } });
    // Probes stay open: the kubelet holds no key.
    expect((await get('/health/live', null)).status).toBe(200);
  }, 30_000);

  it('reports its consumer in the readiness probe', async () => {
    const ready = await get('/health/ready', null);
    expect(ready).toMatchObject({ status: 200, body: { status: 'ok', checks: { 'journal-consumer': { ok: true } } } });
  });
});
