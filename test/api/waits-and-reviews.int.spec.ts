import type { RunState } from '@weft/core';
import { type ApiApp, apiAppForSuite } from '../support/api-app.harness';
import { describeDistributed } from '../distributed/support/infra.util';
import { waitFor } from '../distributed/support/wait.util';

/**
 * Issue 13 "done means" on real NATS JetStream + PostgreSQL, through the HTTP API: signals meet
 * waits whichever comes first (lookback), each run gets its own keyed signal, decisions are
 * exclusive and validated, namespaces see nothing of each other.
 */

async function json<T = Record<string, unknown>>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

const waiter = (name: string, lookback: string, timeout = '30s', before?: string) => ({
  apiVersion: 'weft/v1',
  kind: 'Workflow',
  name,
  inputs: { key: { type: 'string' } },
  steps: [
    ...(before !== undefined ? [{ id: 'pause', action: 'sleep', with: { duration: before } }] : []),
    {
      id: 'wait',
      ...(before !== undefined && { needs: ['pause'] }),
      action: 'wait.event',
      with: { event: 'invoice.paid', key: '${{ inputs.key }}', timeout, lookback },
    },
  ],
  outputs: { paid: '${{ steps.wait.output.data }}', signalId: '${{ steps.wait.output.id }}' },
});

const form = { type: 'object', required: ['total'], properties: { total: { type: 'number', minimum: 0 } }, additionalProperties: false };
const approval = {
  apiVersion: 'weft/v1',
  kind: 'Workflow',
  name: 'approval',
  steps: [
    { id: 'extract', action: 'noop', with: { total: 10, confidence: 0.5 }, review: { when: 'output.confidence < 0.8', title: 'Check ${{ output.total }}', assignees: ['finance'], form } },
    { id: 'post', needs: ['extract'], action: 'noop', with: { total: '${{ steps.extract.output.total }}' } },
  ],
  outputs: { posted: '${{ steps.post.output.total }}' },
};

describeDistributed('durable waits and reviews over HTTP (NATS JetStream + PostgreSQL)', { nats: true, postgres: true }, () => {
  let app: ApiApp;
  let key: string;
  apiAppForSuite({}, (suite) => ({ app, key } = suite));

  async function start(spec: object, inputs: Record<string, unknown> = {}, apiKey = key): Promise<string> {
    const response = await app.request('POST', '/v1/runs/adhoc', { key: apiKey, json: { spec, inputs } });
    expect(response.status).toBe(202);
    return (await json<{ runId: string }>(response)).runId;
  }

  async function finished(runId: string, timeoutMs = 20_000): Promise<RunState> {
    let last: RunState | undefined;
    await waitFor(
      async () => {
        last = await app.store.getRun(runId);
        return last !== undefined && ['completed', 'failed', 'canceled', 'partially_completed'].includes(last.status);
      },
      { timeoutMs, what: `run ${runId} to finish` },
    );
    if (!last) throw new Error(`no run ${runId}`);
    return last;
  }

  const send = (body: object, apiKey = key): Promise<Response> => app.request('POST', '/v1/signals', { key: apiKey, json: body });

  async function openReviewOf(runId: string): Promise<{ id: string }> {
    let found: { id: string; runId: string } | undefined;
    await waitFor(
      async () => {
        const page = await json<{ items: { id: string; runId: string }[] }>(await app.request('GET', '/v1/reviews?status=open', { key }));
        found = page.items.find((r) => r.runId === runId);
        return found !== undefined;
      },
      { timeoutMs: 15_000, what: `a review of run ${runId}` },
    );
    if (!found) throw new Error('no review');
    return found;
  }

  it('a signal sent 1 s before its wait starts completes it with lookback >= 1 s, and not without', async () => {
    // Both waits begin after a 1 s durable sleep; the signals are sent right after the runs start.
    const withLookback = await start(waiter('lookback-yes', '3s', '30s', '1s'), { key: 'L-1' });
    const without = await start(waiter('lookback-no', '0s', '3s', '1s'), { key: 'L-2' });
    expect((await send({ name: 'invoice.paid', key: 'L-1', data: { amount: 1 } })).status).toBe(201);
    expect((await send({ name: 'invoice.paid', key: 'L-2', data: { amount: 2 } })).status).toBe(201);
    // The signals really came first: neither wait had begun.
    expect((await app.store.getRun(withLookback))?.steps.wait?.status).toBe('pending');
    expect((await app.store.getRun(without))?.steps.wait?.status).toBe('pending');

    const yes = await finished(withLookback);
    expect(yes.status).toBe('completed');
    expect(yes.outputs).toMatchObject({ paid: { amount: 1 } });
    const no = await finished(without);
    expect(no.status).toBe('failed');
    expect(no.steps.wait?.error).toMatchObject({ code: 'TIMEOUT' });
    expect(no.steps.wait?.attempts).toHaveLength(1);
  }, 40_000);

  it('100 runs each waiting on their own key each get exactly their own signal', async () => {
    const spec = waiter('hundred', '0s', '60s');
    const runs = await Promise.all(Array.from({ length: 100 }, (_, i) => start(spec, { key: `K-${i}` })));
    const ids = runs.map((r) => `'${r}'`).join(',');
    await waitFor(async () => (await app.query<{ n: number }>(`SELECT count(*)::int AS n FROM signal_waits WHERE run_id IN (${ids})`))[0]?.n === 100, {
      timeoutMs: 30_000,
      what: '100 registered waits',
    });
    const sent = await Promise.all(runs.map((_, i) => send({ name: 'invoice.paid', key: `K-${i}`, data: { i }, id: `hundred-${i}` })));
    expect(sent.map((r) => r.status)).toEqual(runs.map(() => 201));
    const states = await Promise.all(runs.map((r) => finished(r, 30_000)));
    states.forEach((state, i) => {
      expect(state.status).toBe('completed');
      expect(state.outputs).toEqual({ paid: { i }, signalId: `hundred-${i}` });
    });
    expect((await app.query<{ n: number }>(`SELECT count(*)::int AS n FROM signal_waits WHERE run_id IN (${ids})`))[0]?.n).toBe(0);
    expect((await app.query<{ n: number }>('SELECT count(*)::int AS n FROM signal_deliveries'))[0]?.n).toBe(0);
  }, 90_000);

  it('a repeated signal id answers 200 with the first; a signal on weft.signal.<name> satisfies a wait too', async () => {
    const first = await send({ name: 'dup.test', id: 'same-id', data: { n: 1 } });
    expect(first.status).toBe(201);
    const again = await send({ name: 'dup.test', id: 'same-id', data: { n: 2 } });
    expect(again.status).toBe(200);
    expect(await json(again)).toEqual(await json(first));

    const runId = await start(waiter('over-nats', '0s', '30s'), { key: 'N-1' });
    await waitFor(async () => (await app.store.getRun(runId))?.steps.wait?.status === 'waiting', { timeoutMs: 10_000, what: 'the wait to begin' });
    await app.bus.publish('weft.signal.invoice.paid', { key: 'N-1', data: { via: 'nats' } }, { msgId: 'nats-signal-1' });
    const done = await finished(runId);
    expect(done.outputs).toMatchObject({ paid: { via: 'nats' } });
    const listed = await json<{ items: { name: string; key: string | null }[] }>(await app.request('GET', '/v1/signals?name=invoice.paid&key=N-1', { key }));
    expect(listed.items).toEqual([expect.objectContaining({ name: 'invoice.paid', key: 'N-1', data: { via: 'nats' } })]);
  }, 30_000);

  it('of two concurrent decisions exactly one wins; the other is 409 with the winner', async () => {
    const runId = await start(approval);
    const review = await openReviewOf(runId);
    const shown = await json<{ output: unknown; form: unknown; stepId: string; kind: string }>(await app.request('GET', `/v1/reviews/${encodeURIComponent(review.id)}`, { key }));
    expect(shown).toMatchObject({ output: { total: 10, confidence: 0.5 }, form, stepId: 'extract', kind: 'low-confidence', title: 'Check 10', assignees: ['finance'] });

    const other = await app.key();
    const decide = (decision: string, apiKey: string) =>
      app.request('POST', `/v1/reviews/${encodeURIComponent(review.id)}/decision`, { key: apiKey, json: { decision, comment: `${decision} please` } });
    const answers = await Promise.all([decide('continue', key), decide('reject', other)]);
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 409]);
    const winner = answers.findIndex((r) => r.status === 200);
    const loser = await json<{ code: string; decision: { decision: string } }>(answers[1 - winner] as Response);
    const won = winner === 0 ? 'continue' : 'reject';
    expect(loser).toMatchObject({ code: 'REVIEW_DECIDED', decision: { decision: won, actor: { keyId: expect.any(String), name: 'test' } } });
    const state = await finished(runId);
    expect(state.status).toBe(won === 'continue' ? 'completed' : 'failed');
    // Deciding again later is the same 409.
    expect((await decide('continue', key)).status).toBe(409);
  }, 30_000);

  it('a correction that fails the form is 422 and changes nothing (row counts); a valid one replaces the output', async () => {
    const runId = await start(approval);
    const review = await openReviewOf(runId);
    const counts = async () =>
      (
        await app.query<Record<string, number>>(
          `SELECT (SELECT count(*)::int FROM reviews) AS reviews, (SELECT count(*)::int FROM reviews WHERE status = 'open') AS open,
                  (SELECT count(*)::int FROM runs) AS runs, (SELECT count(*)::int FROM step_runs) AS steps, (SELECT count(*)::int FROM outbox) AS outbox,
                  (SELECT count(*)::int FROM timers) AS timers, (SELECT max(seq)::int FROM runs WHERE id = $1) AS seq`,
          [runId],
        )
      )[0];
    const before = await counts();
    const bad = await app.request('POST', `/v1/reviews/${encodeURIComponent(review.id)}/decision`, { key, json: { decision: 'correct', payload: { total: 'twelve' } } });
    expect(bad.status).toBe(422);
    expect(await json(bad)).toMatchObject({ code: 'INVALID_DECISION', errors: [expect.objectContaining({ path: 'payload.total', code: 'type' })] });
    const missing = await app.request('POST', `/v1/reviews/${encodeURIComponent(review.id)}/decision`, { key, json: { decision: 'correct' } });
    expect(missing.status).toBe(422);
    expect(await counts()).toEqual(before);

    const good = await app.request('POST', `/v1/reviews/${encodeURIComponent(review.id)}/decision`, { key, json: { decision: 'correct', payload: { total: 12 } } });
    expect(good.status).toBe(200);
    expect(await json(good)).toMatchObject({ review: { status: 'decided', decision: 'correct', payload: { total: 12 } } });
    const state = await finished(runId);
    expect(state.outputs).toEqual({ posted: 12 });
  }, 30_000);

  it('the audit log records who sent a signal and who decided a review, per namespace, append-only', async () => {
    const runId = await start(approval);
    const review = await openReviewOf(runId);
    expect((await send({ name: 'audit.check', id: 'audited-1' })).status).toBe(201);
    expect((await app.request('POST', `/v1/reviews/${encodeURIComponent(review.id)}/decision`, { key, json: { decision: 'continue', comment: 'fine' } })).status).toBe(200);
    const byTarget = await json<{ items: { action: string; actor: unknown; target: unknown; details: Record<string, unknown> }[] }>(
      await app.request('GET', `/v1/audit?target=${encodeURIComponent(`review:${review.id}`)}`, { key }),
    );
    expect(byTarget.items).toEqual([
      expect.objectContaining({ action: 'review.decided', actor: { keyId: expect.any(String), name: 'test' }, target: { kind: 'review', id: review.id }, details: expect.objectContaining({ decision: 'continue', comment: 'fine', runId }) }),
    ]);
    const signals = await json<{ items: { target: { id: string }; actor: unknown }[] }>(await app.request('GET', '/v1/audit?action=signal.sent&target=signal:audited-1', { key }));
    expect(signals.items).toEqual([expect.objectContaining({ target: { kind: 'signal', id: 'audited-1' }, actor: { keyId: expect.any(String), name: 'test' } })]);
    const stranger = await app.key('team-audit');
    expect((await json<{ items: unknown[] }>(await app.request('GET', '/v1/audit', { key: stranger }))).items).toEqual([]);
    // No route changes a record.
    expect([404, 405]).toContain((await app.request('DELETE', '/v1/audit', { key })).status);
  }, 30_000);

  it('two concurrent escalations move one tier: one 200, one 409', async () => {
    const tiers = { ...approval, name: 'approval-tiers', steps: [{ ...approval.steps[0], review: { ...approval.steps[0]?.review, escalation: [{ after: '1h', assignees: ['leads'] }, { after: '2h', assignees: ['cfo'] }] } }, approval.steps[1]] };
    const runId = await start(tiers);
    const review = await openReviewOf(runId);
    const escalate = () => app.request('POST', `/v1/reviews/${encodeURIComponent(review.id)}/decision`, { key, json: { decision: 'escalate' } });
    const answers = await Promise.all([escalate(), escalate()]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
    expect(await json(await app.request('GET', `/v1/reviews/${encodeURIComponent(review.id)}`, { key }))).toMatchObject({ status: 'open', tier: 1, assignees: ['leads'] });
  }, 30_000);

  it('the exception queue lists open reviews and failed runs; resolving one takes it out (404 elsewhere, 409 twice)', async () => {
    const reviewRun = await start(approval);
    const review = await openReviewOf(reviewRun);
    const failedRun = await start({ apiVersion: 'weft/v1', kind: 'Workflow', name: 'boom', steps: [{ id: 'x', action: 'fail', with: { code: 'BOOM', retryable: false } }] });
    expect((await finished(failedRun)).status).toBe('failed');
    type Page = { items: { kind: string; id: string; runId: string; summary: string }[] };
    const queue = await json<Page>(await app.request('GET', '/v1/exceptions?limit=200', { key }));
    expect(queue.items).toEqual(expect.arrayContaining([
      expect.objectContaining({ kind: 'low-confidence', id: review.id, runId: reviewRun }),
      expect.objectContaining({ kind: 'failed', id: failedRun, summary: expect.stringContaining('BOOM') }),
    ]));
    const stranger = await app.key('team-exceptions');
    expect((await json<Page>(await app.request('GET', '/v1/exceptions', { key: stranger }))).items).toEqual([]);
    expect((await app.request('POST', `/v1/exceptions/failed/${failedRun}/resolve`, { key: stranger, json: { note: 'not mine' } })).status).toBe(404);
    expect((await app.request('POST', `/v1/exceptions/failed/${failedRun}/resolve`, { key, json: { note: 'known flake' } })).status).toBe(200);
    expect((await app.request('POST', `/v1/exceptions/failed/${failedRun}/resolve`, { key, json: { note: 'again' } })).status).toBe(409);
    const after = await json<Page>(await app.request('GET', '/v1/exceptions?kind=failed&limit=200', { key }));
    expect(after.items.map((i) => i.id)).not.toContain(failedRun);
    const history = await json<{ items: { id: string; resolved: { note: string } | null }[] }>(await app.request('GET', '/v1/exceptions?kind=failed&resolved=true&limit=200', { key }));
    expect(history.items.find((i) => i.id === failedRun)?.resolved).toMatchObject({ note: 'known flake' });
  }, 30_000);

  it('a decision for a canceled run is 409', async () => {
    const runId = await start(approval);
    const review = await openReviewOf(runId);
    expect((await app.request('POST', `/v1/runs/${runId}/cancel`, { key })).status).toBe(200);
    const late = await app.request('POST', `/v1/reviews/${encodeURIComponent(review.id)}/decision`, { key, json: { decision: 'continue' } });
    expect(late.status).toBe(409);
    expect(await json(late)).toMatchObject({ code: 'REVIEW_CLOSED' });
  }, 30_000);

  it('another namespace\'s key sees no review or signal of this one, and its signals satisfy no wait here', async () => {
    const runId = await start(approval);
    const review = await openReviewOf(runId);
    const waiting = await start(waiter('ns-wait', '0s', '3s'), { key: 'NS-1' });
    await waitFor(async () => (await app.store.getRun(waiting))?.steps.wait?.status === 'waiting', { timeoutMs: 10_000, what: 'the wait to begin' });
    const stranger = await app.key('team-b');
    expect((await send({ name: 'invoice.paid', key: 'NS-1', data: {} }, stranger)).status).toBe(201);
    expect((await json<{ items: unknown[] }>(await app.request('GET', '/v1/reviews', { key: stranger }))).items).toEqual([]);
    expect((await app.request('GET', `/v1/reviews/${encodeURIComponent(review.id)}`, { key: stranger })).status).toBe(404);
    expect((await app.request('POST', `/v1/reviews/${encodeURIComponent(review.id)}/decision`, { key: stranger, json: { decision: 'continue' } })).status).toBe(404);
    const theirs = await json<{ items: { key: string }[] }>(await app.request('GET', '/v1/signals', { key: stranger }));
    expect(theirs.items.map((s) => s.key)).toEqual(['NS-1']);
    const ours = await json<{ items: { key: string | null }[] }>(await app.request('GET', '/v1/signals?key=NS-1', { key }));
    expect(ours.items).toEqual([]);
    // team-b's signal was not this namespace's: the wait times out.
    const state = await finished(waiting);
    expect(state.steps.wait?.error).toMatchObject({ code: 'TIMEOUT' });
    expect((await app.store.getRun(runId))?.steps.extract?.status).toBe('waiting');
  }, 30_000);
});
