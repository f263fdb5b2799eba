import { SqlApiKeyRepository } from '@weft/scheduler';
import { describeDistributed } from './support/infra.util';
import { scenario } from './support/scenario.util';

// Issue 13 "done means": a run waiting on a review survives SIGKILL of a separate scheduler
// process; after the restart the decision completes it exactly once.
const approval = {
  apiVersion: 'weft/v1',
  kind: 'Workflow',
  name: 'restart-approval',
  steps: [
    { id: 'approve', action: 'noop', with: { amount: 120 }, review: { title: 'Refund ${{ output.amount }}?', assignees: ['support'] } },
    { id: 'pay', needs: ['approve'], action: 'noop', with: { amount: '${{ steps.approve.output.amount }}' } },
  ],
};

describeDistributed('a review across a scheduler kill', { nats: true, postgres: true }, () => {
  scenario('a run waiting on a review survives SIGKILL of the scheduler; after the restart the decision completes it once', 60_000, async (s) => {
    const [first] = await Promise.all([s.spawn('scheduler'), s.spawn('executor')]);
    const runId = `review-restart-${Date.now().toString(36)}`;
    const bus = await s.bus();
    await bus.publish('weft.run.requested', { idempotencyKey: runId, runId, workflow: approval.name, spec: approval, inputs: {}, source: 'test' });
    const waiting = await s.waitForRun(runId, (run) => run.status === 'waiting' && run.steps.approve?.status === 'waiting', 20_000, 'the review to open');
    expect(waiting.steps.pay?.status).toBe('pending');
    expect(await first.kill()).toEqual({ code: null, signal: 'SIGKILL' });

    const second = await s.spawn('scheduler');
    const store = await s.store();
    const { key } = await new SqlApiKeyRepository(store.dataSource).create('default', 'reviewer');
    const reviewId = `${runId}:approve:1`;
    const decide = (decision: string): Promise<Response> =>
      fetch(`http://127.0.0.1:${second.port}/v1/reviews/${encodeURIComponent(reviewId)}/decision`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ decision, comment: 'after the restart' }),
      });
    const answers = await Promise.all([decide('continue'), decide('continue')]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);

    const done = await s.waitForStatus(runId, 'completed', 20_000);
    expect(Object.values(done.steps).map((step) => [step.id, step.status, step.attempt])).toEqual([
      ['approve', 'completed', 1],
      ['pay', 'completed', 1],
    ]);
    expect(done.steps.approve?.review).toMatchObject({ decision: 'continue', actor: { name: 'reviewer' } });
    const decided = await s.sql<{ n: number }>(`SELECT count(*)::int AS n FROM outbox WHERE run_id = $1 AND subject = 'weft.event.review.decided'`, [runId]);
    expect(decided[0]?.n).toBe(1);
    const [row] = await s.sql<{ status: string; decision: string }>('SELECT status, decision FROM reviews WHERE id = $1', [reviewId]);
    expect(row).toEqual({ status: 'decided', decision: 'continue' });
  });
});
