import { historyCommand } from '../../libs/cli/src/commands/history.command';
import { captureIo } from '../../libs/cli/src/commands/__fixtures__/recording-server';
import { type RunStreamEvent, WeftClient } from '../../libs/sdk/src/client';
import { type ApiApp, apiAppForSuite } from '../support/api-app.harness';
import { describeDistributed } from '../distributed/support/infra.util';
import { waitFor } from '../distributed/support/wait.util';

/**
 * Issue 13 item 5: waits, reviews and decisions with their actors, on every surface of a
 * deployment — the run (GET /v1/runs/{id}), its SSE stream, the journal's events, history and
 * reconstruct, and `weft history --api` — on real NATS JetStream + PostgreSQL.
 */

const gated = {
  apiVersion: 'weft/v1',
  kind: 'Workflow',
  name: 'gated-actors',
  steps: [
    { id: 'nap', action: 'sleep', with: { duration: '200ms' } },
    { id: 'check', needs: ['nap'], action: 'noop', with: { total: 10 }, review: { title: 'Check ${{ output.total }}', assignees: ['finance'], escalation: [{ after: '1h', assignees: ['leads'] }] } },
  ],
  outputs: { total: '${{ steps.check.output.total }}' },
};

const byTest = { keyId: expect.any(String), name: 'test' };

describeDistributed('waits, reviews and decisions with their actors (NATS JetStream + PostgreSQL, journal in the app)', { nats: true, postgres: true }, () => {
  let app: ApiApp;
  let key: string;
  apiAppForSuite({ observers: 'in-app' }, (suite) => ({ app, key } = suite));

  it('the run, its stream, the journal, history, reconstruct and weft history name who escalated and who decided', async () => {
    const sdk = new WeftClient({ url: app.url, apiKey: key });
    const seen: RunStreamEvent[] = [];
    let runId = '';
    for await (const event of sdk.runs.follow({ spec: gated })) {
      seen.push(event);
      if (event.type === 'snapshot') runId = event.run.runId;
      if (event.type !== 'event' || event.event.type !== 'review.requested') continue;
      const reviewId = String(event.event.data?.['reviewId']);
      if (event.event.data?.['escalated'] === true) {
        await sdk.reviews.decide(reviewId, { decision: 'continue', comment: 'looks right' });
        continue;
      }
      // While the review is open, the run's step says what it waits for.
      const run = await sdk.runs.get(runId);
      expect(run.steps.find((s) => s.id === 'check')).toMatchObject({ status: 'waiting', wait: { kind: 'review', reviewId, tier: 0, assignees: ['finance'], deadlineAt: null, overdue: false } });
      await sdk.reviews.decide(reviewId, { decision: 'escalate', comment: 'need a lead' });
    }

    // The stream (a snapshot of the run, then the events after it): the review, the escalation
    // by the key, the decision by the key, and the end.
    const events = seen.flatMap((e) => (e.type === 'event' ? [e.event] : []));
    expect(events.filter((e) => e.type === 'review.requested').map((e) => e.data)).toEqual([
      expect.objectContaining({ title: 'Check 10', assignees: ['finance'] }),
      expect.objectContaining({ escalated: true, tier: 1, assignees: ['leads'], actor: byTest, comment: 'need a lead' }),
    ]);
    expect(events.find((e) => e.type === 'review.decided')?.data).toMatchObject({ decision: 'continue', actor: byTest, comment: 'looks right' });
    const end = seen[seen.length - 1];
    expect(end).toMatchObject({ type: 'end', run: { status: 'completed', outputs: { total: 10 } } });
    expect(end?.type === 'end' ? end.run.steps.find((s) => s.id === 'check')?.review : undefined).toMatchObject({ decision: 'continue', actor: byTest, comment: 'looks right' });

    // The run: the decision and its actor stay on the step.
    expect((await sdk.runs.get(runId)).steps.find((s) => s.id === 'check')).toMatchObject({ status: 'completed', review: { decision: 'continue', actor: byTest, comment: 'looks right', at: expect.any(String) } });
    expect((await sdk.runs.get(runId)).steps.find((s) => s.id === 'check')?.wait).toBeUndefined();

    // The journal: events, reconstruct, history.
    await waitFor(async () => (await sdk.runs.events(runId, { type: ['review.decided'] })).items.length === 1, { timeoutMs: 15_000, what: 'the journal to keep the decision' });
    await waitFor(async () => (await sdk.runs.history(runId)).run.status === 'completed', { timeoutMs: 15_000, what: 'the journal to see the run end' });
    expect((await sdk.runs.events(runId, { type: ['review.decided'] })).items[0]?.data).toMatchObject({ decision: 'continue', actor: byTest, comment: 'looks right' });
    expect((await sdk.runs.events(runId, { type: ['step.waiting'] })).items).toEqual([expect.objectContaining({ stepId: 'nap', data: expect.objectContaining({ wait: 'sleep', until: expect.any(String) }) })]);
    const reconstruction = await sdk.runs.reconstruct(runId);
    const folded = (id: string) => reconstruction.steps.find((s) => s.stepId === id);
    expect(folded('nap')?.waits).toEqual([expect.objectContaining({ wait: 'sleep', until: expect.any(String), attempt: 1 })]);
    expect(folded('check')?.reviews).toEqual([
      expect.objectContaining({
        title: 'Check 10',
        assignees: ['leads'],
        escalations: [expect.objectContaining({ tier: 1, assignees: ['leads'], actor: byTest, comment: 'need a lead' })],
        decision: 'continue',
        actor: byTest,
        comment: 'looks right',
        decidedAt: expect.any(String),
      }),
    ]);
    expect(reconstruction.run).toMatchObject({ source: 'api', actor: byTest });
    const history = await sdk.runs.history(runId);
    expect(history.steps.find((s) => s.stepId === 'check')?.reviews?.[0]?.actor).toEqual(byTest);
    const texts = history.timeline.map((t) => t.text);
    expect(texts).toEqual(expect.arrayContaining([expect.stringMatching(/^nap attempt 1 sleeping until /), expect.stringMatching(/^review of check escalated to tier 1 \(assignees leads\) by test \(.+\) \(need a lead\)$/), expect.stringMatching(/^review decided for check: continue by test \(.+\) \(looks right\)$/)]));

    // weft history --api prints the same.
    const io = captureIo();
    expect(await historyCommand(runId, { api: app.url, apiKey: key }, io, {})).toBe(0);
    const printed = io.lines.join('\n');
    expect(printed).toMatch(/started by api, test \(/);
    expect(printed).toMatch(/review decided for check: continue by test \(/);
    expect(printed).toMatch(/check\s+completed\s+1\s+\S+\s+escalated to tier 1 by test \(.+\), review continue by test \(.+\): looks right/);
  }, 60_000);
});
