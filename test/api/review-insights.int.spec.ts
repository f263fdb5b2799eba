import type { InsightsHttp } from '@weft/contracts';
import type { z } from 'zod';
import { insightsCommand } from '../../libs/cli/src/commands/insights.command';
import { captureIo } from '../../libs/cli/src/commands/__fixtures__/recording-server';
import { WeftApiError, WeftClient } from '../../libs/sdk/src/client';
import { type ApiApp, apiAppForSuite } from '../support/api-app.harness';
import { describeDistributed } from '../distributed/support/infra.util';
import { waitFor } from '../distributed/support/wait.util';

/**
 * Issue 13 item 5: insights add time to decision (p50/p95) and rejection rate per reviewed
 * step, from the journal's review.requested / review.decided events, through GET
 * /v1/insights/reviews, the summary and `weft insights` — the key's namespace only.
 */

type ReviewStats = z.infer<typeof InsightsHttp.ReviewStats>;

async function json<T>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

const gated = {
  apiVersion: 'weft/v1',
  kind: 'Workflow',
  name: 'gated',
  steps: [
    { id: 'check', action: 'noop', with: { total: 10 }, review: { title: 'Check it', form: { type: 'object', required: ['total'], properties: { total: { type: 'number' } } } } },
    { id: 'after', needs: ['check'], action: 'noop' },
  ],
};

describeDistributed('review insights (NATS JetStream + PostgreSQL, analytics in the app)', { nats: true, postgres: true }, () => {
  let app: ApiApp;
  let key: string;
  apiAppForSuite({ observers: 'in-app' }, (suite) => ({ app, key } = suite));

  async function openReviewOf(runId: string): Promise<string> {
    let id: string | undefined;
    await waitFor(
      async () => {
        const page = await json<{ items: { id: string; runId: string }[] }>(await app.request('GET', '/v1/reviews?status=open', { key }));
        id = page.items.find((r) => r.runId === runId)?.id;
        return id !== undefined;
      },
      { timeoutMs: 15_000, what: `a review of run ${runId}` },
    );
    return id ?? '';
  }

  it('counts decisions per reviewed step with their time to decision and rejection rate', async () => {
    const decisions = [{ decision: 'continue' }, { decision: 'reject', comment: 'wrong' }, { decision: 'correct', payload: { total: 12 } }, { decision: 'reject' }];
    for (const body of decisions) {
      const started = await json<{ runId: string }>(await app.request('POST', '/v1/runs/adhoc', { key, json: { spec: gated } }));
      const reviewId = await openReviewOf(started.runId);
      expect((await app.request('POST', `/v1/reviews/${reviewId}/decision`, { key, json: body })).status).toBe(200);
    }
    let reviews: ReviewStats[] = [];
    await waitFor(
      async () => {
        reviews = (await json<{ reviews: ReviewStats[] }>(await app.request('GET', '/v1/insights/reviews?since=1h', { key }))).reviews;
        return reviews[0]?.decided === 4 && reviews[0].p95Ms !== null;
      },
      { timeoutMs: 20_000, what: 'analytics to count the four decisions' },
    );
    expect(reviews).toEqual([{ workflow: 'gated', stepId: 'check', decided: 4, rejected: 2, rejectionRate: 0.5, avgMs: expect.any(Number), p50Ms: expect.any(Number), p95Ms: expect.any(Number) }]);
    const [stats] = reviews;
    expect(stats?.p50Ms).toBeGreaterThanOrEqual(0);
    expect(stats?.p95Ms).toBeGreaterThanOrEqual(stats?.p50Ms ?? 0);

    // The summary carries them with a finding; another namespace sees none.
    const summary = await json<{ reviews: ReviewStats[]; findings: string[] }>(await app.request('GET', '/v1/insights?since=1h', { key }));
    expect(summary.reviews).toEqual(reviews);
    expect(summary.findings).toEqual(expect.arrayContaining([expect.stringMatching(/^4 review\(s\) decided, 50\.0% rejected; slowest to decide: gated\/check, p95 /)]));
    const stranger = await app.key('team-review-insights-other');
    expect((await json<{ reviews: ReviewStats[] }>(await app.request('GET', '/v1/insights/reviews?since=1h', { key: stranger }))).reviews).toEqual([]);
    expect((await app.request('GET', '/v1/insights/reviews?since=soon', { key })).status).toBe(400);

    // The SDK reads the same figures, and another namespace's key none of them.
    const sdk = new WeftClient({ url: app.url, apiKey: key });
    expect(await sdk.insights.reviews({ since: '1h' })).toEqual({ window: expect.objectContaining({ workflow: null }), reviews });
    expect((await sdk.insights.reviews({ workflow: 'gated', since: '1h' })).reviews).toEqual(reviews);
    expect((await sdk.insights.reviews({ workflow: 'other', since: '1h' })).reviews).toEqual([]);
    expect((await new WeftClient({ url: app.url, apiKey: stranger }).insights.reviews({ since: '1h' })).reviews).toEqual([]);
    const bad = await sdk.insights.reviews({ since: 'soon' }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(WeftApiError);
    expect(bad).toMatchObject({ status: 400, code: 'INVALID_QUERY' });

    // weft insights --api prints them.
    const io = captureIo();
    expect(await insightsCommand({ api: app.url, apiKey: key, since: '1h' }, io, {})).toBe(0);
    const text = io.lines.join('\n');
    expect(text).toContain('Reviews (time to decision)');
    expect(text).toMatch(/gated\s+check\s+4\s+2\s+50\.0%/);
  }, 90_000);
});
