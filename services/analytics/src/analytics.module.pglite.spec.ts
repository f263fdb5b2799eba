import { eventSubject } from '@weft/contracts';
import { projectionOnPglite } from '@weft/platform/testing';
import { AnalyticsModule } from './analytics.module';
import { fixedRuns, T10, waitFor } from './testing/analytics.fixtures';
import type { InsightSummary } from './domain/analytics.types';
import { openAnalyticsStore } from './persistence/sql-analytics.store';

/** Analytics as `weft dev` runs it: the module on PGlite and the in-memory bus, queried over HTTP. */
describe('AnalyticsModule (PGlite, in-memory bus, HTTP)', () => {
  const service = projectionOnPglite('analytics', openAnalyticsStore, ({ bus, store, auth }) => {
    const module = AnalyticsModule.forRoot({ bus, store, auth });
    return { module, readiness: AnalyticsModule.readiness(module) };
  });
  const { tenants } = service;
  const get = (path: string, key?: string | null) => service.get<Record<string, unknown>>(path, key);
  const since = new Date(T10).toISOString();
  const until = new Date(T10 + 2 * 3_600_000).toISOString();

  it('counts what the bus delivers and answers every insight route', async () => {
    for (const event of fixedRuns()) {
      await service.bus.publish(eventSubject(event.type), event, { msgId: event.eventId });
      await service.bus.publish(eventSubject(event.type), event, { msgId: `${event.eventId}:dup` });
    }
    await waitFor(async () => {
      const rows: { n: number }[] = await service.dataSource.query('SELECT coalesce(sum(started), 0)::int AS n FROM analytics_run_hourly');
      const summary = (await get(`/v1/insights?since=${since}&until=${until}`)).body as unknown as InsightSummary;
      return rows[0].n === 8 && summary.runs.finished === 8;
    }, 'every run counted');

    const summary = await get(`/v1/insights?workflow=etl&since=${since}&until=${until}`);
    expect(summary.status).toBe(200);
    expect(summary.body).toMatchObject({ window: { workflow: 'etl', since, until }, runs: { started: 6, finished: 6, completed: 3 } });
    expect((summary.body as unknown as InsightSummary).findings[0]).toBe('6 run(s) finished: 3 completed, 2 failed, 1 canceled (success rate 50.0%)');

    const hotspots = await get(`/v1/insights/hotspots?since=${since}&until=${until}&limit=1`);
    expect(hotspots.body).toMatchObject({ hotspots: [{ workflow: 'etl', stepId: 'load', failures: 1, retries: 3 }] });
    expect((hotspots.body['hotspots'] as unknown[]).length).toBe(1);

    const trends = await get(`/v1/insights/trends?workflow=etl&since=${since}&until=${until}&window=1&granularity=hour`);
    expect(trends.body).toMatchObject({ trend: { window: 1, points: [{ avgMs: 1500, movingAvgMs: 1500 }, { avgMs: 3000, movingAvgMs: 3000 }], change: 1, direction: 'slower' } });

    const steps = await get(`/v1/insights/steps?workflow=ml&since=${since}&until=${until}`);
    expect(steps.body).toMatchObject({ window: { workflow: 'ml' }, steps: [{ stepId: 'train', completed: 2, retried: 1 }] });

    // The default window is the last 24 hours of database time: the fixed day is long past.
    expect(await get('/v1/insights')).toMatchObject({ status: 200, body: { runs: { finished: 0 } } });
  }, 30_000);

  it('counts per namespace: a key sees its own namespace\'s runs only, though workflow names collide', async () => {
    // team-b runs an `etl` too: the fixed day's r3 (load fails for good after retries).
    const theirs = fixedRuns()
      .filter((e) => e.runId === 'r3')
      .map((e) => ({ ...e, eventId: `b-${e.eventId}`, runId: 'b-r3', namespace: 'team-b' }));
    for (const event of theirs) await service.bus.publish(eventSubject(event.type), event, { msgId: event.eventId });
    const teamB = tenants.keyOf('team-b');
    await waitFor(async () => ((await get(`/v1/insights?since=${since}&until=${until}`, teamB)).body as unknown as InsightSummary).runs.finished === 1, 'team-b counted');

    expect((await get(`/v1/insights?workflow=etl&since=${since}&until=${until}`, teamB)).body).toMatchObject({ runs: { started: 1, finished: 1, failed: 1, completed: 0 } });
    expect((await get(`/v1/insights/hotspots?since=${since}&until=${until}`, teamB)).body).toMatchObject({ hotspots: [{ workflow: 'etl', stepId: 'load', failures: 1, retries: 2 }] });
    expect(((await get(`/v1/insights/steps?since=${since}&until=${until}`, teamB)).body['steps'] as { stepId: string }[]).map((s) => s.stepId)).toEqual(['extract', 'load']);
    // default's figures are what they were before team-b ran anything.
    expect((await get(`/v1/insights?workflow=etl&since=${since}&until=${until}`)).body).toMatchObject({ runs: { started: 6, finished: 6, completed: 3 } });
    expect((await get(`/v1/insights/hotspots?since=${since}&until=${until}&limit=1`)).body).toMatchObject({ hotspots: [{ stepId: 'load', failures: 1, retries: 3 }] });

    expect(await get('/v1/insights', null)).toMatchObject({ status: 401, type: expect.stringMatching(/^application\/problem\+json/), body: { code: 'UNAUTHORIZED', instance: '/v1/insights' } });
    expect(await get('/v1/insights/hotspots', 'Bearer-less')).toMatchObject({ status: 401, body: { code: 'UNAUTHORIZED' } });
  }, 30_000);

  it('answers bad queries as RFC 7807 problem details', async () => {
    expect(await get('/v1/insights?since=yesterday')).toEqual({
      status: 400,
      type: expect.stringMatching(/^application\/problem\+json/),
      body: {
        type: 'urn:weft:problem:invalid-query',
        title: 'Bad Request',
        status: 400,
        detail: 'since: expected an ISO 8601 time or a duration such as 24h (got "yesterday")',
        instance: '/v1/insights',
        code: 'INVALID_QUERY',
      },
    });
    expect(await get('/v1/insights/hotspots?limit=1000')).toMatchObject({ status: 400, body: { code: 'INVALID_QUERY' } });
    expect(await get('/v1/insights/trends?granularity=week')).toMatchObject({ status: 400, body: { code: 'INVALID_QUERY' } });
    expect(await get('/v1/insights/steps?since=1h&until=2h')).toMatchObject({ status: 400, body: { code: 'INVALID_QUERY', detail: expect.stringMatching(/must be before/) } });
  });

  it('reports its consumer in the readiness probe', async () => {
    expect(await get('/health/ready', null)).toMatchObject({ status: 200, body: { checks: { 'analytics-consumer': { ok: true } } } });
  });
});
