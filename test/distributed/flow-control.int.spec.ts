import type { LifecycleEvent } from '@weft/contracts';
import { explainRun, itemParent, type RunState } from '@weft/core';
import { describeDistributed } from './support/infra.util';
import { scenario } from './support/scenario.util';
import { waitFor } from './support/wait.util';

/**
 * Issue 16 on real NATS + PostgreSQL: a forEach over 1,000 items with concurrency 50 never has
 * more than 50 items in flight, measured from the lifecycle events the journal reads (ordered by
 * their `<run>:<seq>:<n>` ids, i.e. decision order), and finishes with every output in order.
 */

const order = (e: LifecycleEvent): [number, number] => {
  const [seq, n] = e.eventId.split(':').slice(-2).map(Number);
  return [seq ?? 0, n ?? 0];
};

describeDistributed('flow control', { nats: true, postgres: true }, () => {
  scenario('forEach over 1,000 items with concurrency 50: never more than 50 in flight (from the journal events), all outputs in order', 120_000, async (s) => {
    await Promise.all([s.spawn('scheduler'), s.spawn('executor', { WEFT_CONCURRENCY: '40' }), s.spawn('executor', { WEFT_CONCURRENCY: '40' })]);
    const bus = await s.bus();
    const events: LifecycleEvent[] = [];
    const watch = await bus.consume('weft.event.>', { group: `flow-watch-${s.prefix}` }, async (delivery) => {
      events.push(delivery.data);
    });
    s.onCleanup(() => watch.drain());
    const runId = `fan-${s.prefix}`;
    const xs = Array.from({ length: 1_000 }, (_, i) => i);
    const spec = {
      apiVersion: 'weft/v1',
      kind: 'Workflow',
      name: 'fan-1000',
      inputs: { xs: { type: 'array' } },
      steps: [{ id: 'each', action: 'test.record', forEach: '${{ inputs.xs }}', concurrency: 50, with: { file: s.recordFile, ms: 5, n: '${{ item }}' } }],
      outputs: { n: '${{ size(steps.each.output) }}' },
    };
    await bus.publish('weft.run.requested', { idempotencyKey: runId, runId, workflow: 'fan-1000', spec, inputs: { xs }, source: 'test' });

    const run = await s.waitForRun(runId, (r) => r.status !== 'running' && r.status !== 'queued', 100_000, 'the fan-out to end');
    expect({ status: run.status, outputs: run.outputs }).toEqual({ status: 'completed', outputs: { n: 1_000 } });
    const output = run.steps['each']?.output as { stepId: string }[];
    expect(output.map((o) => o.stepId)).toEqual(xs.map((i) => `each[${i}]`));

    // In flight per the journal's events, in decision order: queued .. completed/failed/canceled.
    await waitFor(async () => (events.some((e) => e.runId === runId && e.type === 'run.completed') ? true : undefined), { timeoutMs: 15_000, what: 'the run.completed event' });
    const mine = events.filter((e) => e.runId === runId).sort((a, b) => order(a)[0] - order(b)[0] || order(a)[1] - order(b)[1]);
    const inFlight = new Set<string>();
    let most = 0;
    let settled = 0;
    for (const e of mine) {
      if (e.stepId === undefined || itemParent(e.stepId) === undefined) continue;
      if (e.type === 'step.queued') inFlight.add(e.stepId);
      else if (e.type === 'step.completed' || e.type === 'step.failed' || e.type === 'step.canceled') {
        inFlight.delete(e.stepId);
        settled++;
      }
      most = Math.max(most, inFlight.size);
    }
    expect(settled).toBe(1_000);
    expect(most).toBeLessThanOrEqual(50);
    // The limit is what bounds it (80 executor slots), not the executors.
    expect(most).toBeGreaterThanOrEqual(40);
    console.info(`flow-control: 1,000 items, concurrency 50: at most ${most} in flight; run took ${(run.finishedAt ?? 0) - run.createdAt} ms`);
  });

  scenario('why names the reasons of a live run: needs, no worker on the queue, a sleep', 60_000, async (s) => {
    await s.spawn('scheduler');
    const bus = await s.bus();
    const runId = `why-${s.prefix}`;
    const spec = {
      apiVersion: 'weft/v1',
      kind: 'Workflow',
      name: 'why-demo',
      steps: [
        { id: 'lonely', action: 'test.record', queue: 'nobody-serves', with: { file: s.recordFile } },
        { id: 'after', needs: ['lonely'], action: 'noop' },
        { id: 'nap', action: 'sleep', with: { duration: '1h' } },
      ],
    };
    await bus.publish('weft.run.requested', { idempotencyKey: runId, runId, workflow: 'why-demo', spec, inputs: {}, source: 'test' });
    const run: RunState = await s.waitForRun(runId, (r) => r.steps['lonely']?.status === 'queued' && r.steps['nap']?.status === 'waiting', 20_000, 'the run to wait');
    const store = await s.store();
    const why = explainRun(run, { now: await store.now(), workers: new Map([['default', ['w1']]]) });
    const kinds = Object.fromEntries(why.steps.map((st) => [st.stepId, st.reason.kind]));
    expect(kinds).toEqual({ lonely: 'no-worker', after: 'needs', nap: 'timer' });
  });
});
