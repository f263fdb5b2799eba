import { WeftApiError, WeftClient } from '@weft/sdk';
import { describeDistributed } from '../distributed/support/infra.util';
import { type ApiApp, startApiApp } from '../support/api-app.harness';

/**
 * One namespace never reads another's history, events, checkpoints or insights, with the
 * journal and analytics mounted beside the API (`weft dev`) and as their own services
 * gating with the scheduler's keys (Kubernetes). Real runs on NATS + PostgreSQL, a real
 * HTTP client, two namespaces running a workflow of the same name.
 */

/** The same workflow name in both namespaces: default's fails at `b` for good, team-b's completes. */
const iso = (failing: boolean) => ({
  apiVersion: 'weft/v1',
  kind: 'Workflow',
  name: 'iso',
  steps: [
    { id: 'a', action: 'transform', with: { expr: "'from a'" } },
    { id: 'b', needs: ['a'], action: failing ? 'fail' : 'noop', ...(failing && { with: { code: 'ISO_BOOM', retryable: false } }) },
  ],
});

interface EventPage {
  items: { runId: string; type: string }[];
}

async function body<T>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

async function waitFor(predicate: () => Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.each(['in-app', 'standalone'] as const)('namespaces in the journal and insights (%s)', (mode) => {
  describeDistributed(`on NATS JetStream + PostgreSQL`, { nats: true, postgres: true }, () => {
    let app: ApiApp;
    let keyA: string;
    let keyB: string;
    let runA: string;
    let runB: string;

    const get = (base: 'journal' | 'analytics', path: string, key: string | undefined): Promise<Response> => {
      const url = base === 'journal' ? app.journalUrl : app.analyticsUrl;
      if (url === undefined) throw new Error('the app runs no journal/analytics');
      return fetch(`${url}${path}`, { headers: key === undefined ? {} : { Authorization: `Bearer ${key}` } });
    };
    const expectProblem = async (response: Response, status: number, code: string) => {
      expect({ status: response.status, type: response.headers.get('content-type') }).toEqual({ status, type: expect.stringMatching(/^application\/problem\+json/) });
      expect(await body(response)).toMatchObject({ status, code });
    };

    beforeAll(async () => {
      app = await startApiApp({ observers: mode });
      keyA = await app.key('default');
      keyB = await app.key('team-b');
      const start = async (key: string, failing: boolean) => {
        const response = await app.request('POST', '/v1/runs/adhoc?mode=sync', { key, json: { spec: iso(failing) } });
        expect(response.status).toBe(200);
        return (await body<{ runId: string }>(response)).runId;
      };
      runA = await start(keyA, true);
      runB = await start(keyB, false);
      // Both runs journaled to the end and counted.
      for (const [key, runId, last] of [[keyA, runA, 'run.failed'], [keyB, runB, 'run.completed']] as const) {
        await waitFor(async () => {
          const page = await get('journal', `/v1/runs/${runId}/events?limit=1000`, key);
          return page.ok && (await body<EventPage>(page)).items.some((e) => e.type === last);
        }, `${runId} journaled`);
        await waitFor(async () => {
          const summary = await get('analytics', '/v1/insights?workflow=iso&since=1h', key);
          return summary.ok && (await body<{ runs: { finished: number } }>(summary)).runs.finished === 1;
        }, `${runId} counted`);
      }
    }, 90_000);

    afterAll(async () => {
      await app?.close();
    }, 30_000);

    it('answers a run of another namespace exactly like a run that never was', async () => {
      for (const path of ['history', 'events', 'checkpoints', 'checkpoints/a', 'reconstruct']) {
        await expectProblem(await get('journal', `/v1/runs/${runB}/${path}`, keyA), 404, 'RUN_NOT_FOUND');
        await expectProblem(await get('journal', `/v1/runs/${runA}/${path}`, keyB), 404, 'RUN_NOT_FOUND');
      }
      expect(await body(await get('journal', `/v1/runs/${runA}/history`, keyA))).toMatchObject({ run: { runId: runA, status: 'failed' } });
      expect(await body(await get('journal', `/v1/runs/${runB}/checkpoints/b`, keyB))).toMatchObject({ runId: runB, stepId: 'b', state: { a: 'from a' } });
    });

    it('lists events across runs of the caller\'s namespace only', async () => {
      const runsOf = async (key: string, query: string) => [...new Set((await body<EventPage>(await get('journal', `/v1/events?${query}`, key))).items.map((e) => e.runId))];
      expect(await runsOf(keyA, 'workflow=iso&since=1h&limit=1000')).toEqual([runA]);
      expect(await runsOf(keyB, 'workflow=iso&since=1h&limit=1000')).toEqual([runB]);
      expect(await runsOf(keyA, `runId=${runB}&since=1h`)).toEqual([]);
      const stranger = await app.key('team-c');
      expect(await runsOf(stranger, 'since=1h&limit=1000')).toEqual([]);
    });

    it('counts insights per namespace, though the workflow names collide', async () => {
      expect(await body(await get('analytics', '/v1/insights?workflow=iso&since=1h', keyA))).toMatchObject({ runs: { finished: 1, failed: 1, completed: 0 } });
      expect(await body(await get('analytics', '/v1/insights?workflow=iso&since=1h', keyB))).toMatchObject({ runs: { finished: 1, failed: 0, completed: 1 } });
      const hotspots = (key: string) => get('analytics', '/v1/insights/hotspots?since=1h', key).then((r) => body<{ hotspots: { stepId: string; topError: { code: string } | null }[] }>(r));
      expect((await hotspots(keyA)).hotspots).toEqual([expect.objectContaining({ stepId: 'b', topError: expect.objectContaining({ code: 'ISO_BOOM' }) })]);
      expect((await hotspots(keyB)).hotspots).toEqual([]);
      const steps = await body<{ steps: { stepId: string; completed: number; failed: number }[] }>(await get('analytics', '/v1/insights/steps?since=1h', keyB));
      expect(steps.steps.map((s) => [s.stepId, s.completed, s.failed])).toEqual([
        ['a', 1, 0],
        ['b', 1, 0],
      ]);
    });

    it('holds for the SDK client too', async () => {
      const client = (base: string | undefined, apiKey: string) => new WeftClient({ url: base ?? '', apiKey });
      const b = { journal: client(app.journalUrl, keyB), insights: client(app.analyticsUrl, keyB) };
      expect((await b.journal.runs.history(runB)).run).toMatchObject({ runId: runB, status: 'completed' });
      await expect(b.journal.runs.history(runA)).rejects.toEqual(expect.objectContaining({ status: 404, code: 'RUN_NOT_FOUND' }));
      await expect(b.journal.runs.checkpoints(runA)).rejects.toBeInstanceOf(WeftApiError);
      expect(new Set((await b.journal.events({ workflow: 'iso', since: '1h', limit: 1000 })).items.map((e) => e.runId))).toEqual(new Set([runB]));
      expect((await b.insights.insights.summary({ workflow: 'iso', since: '1h' })).runs).toMatchObject({ finished: 1, completed: 1 });
      await expect(client(app.analyticsUrl, 'weft_0123456789ab_nope').insights.hotspots({ since: '1h' })).rejects.toEqual(expect.objectContaining({ status: 401, code: 'UNAUTHORIZED' }));
    });

    it('refuses requests without a valid key (401 problem), and serves /metrics without one', async () => {
      for (const [base, path] of [
        ['journal', `/v1/runs/${runA}/history`],
        ['journal', '/v1/events'],
        ['analytics', '/v1/insights'],
        ['analytics', '/v1/insights/hotspots'],
      ] as const) {
        await expectProblem(await get(base, path, undefined), 401, 'UNAUTHORIZED');
        await expectProblem(await get(base, path, `${keyA.slice(0, -2)}xx`), 401, 'UNAUTHORIZED');
      }
      const revoked = await app.key('default');
      expect((await app.request('DELETE', `/v1/keys/${revoked.split('_')[1]}`, { key: keyA })).status).toBe(200);
      await expectProblem(await get('journal', '/v1/events', revoked), 401, 'UNAUTHORIZED');
      await expectProblem(await get('analytics', '/v1/insights', revoked), 401, 'UNAUTHORIZED');
      // Prometheus holds no key either.
      expect((await get('journal', '/metrics', undefined)).status).toBe(200);
      expect((await get('analytics', '/metrics', undefined)).status).toBe(200);
    });
  });
});
