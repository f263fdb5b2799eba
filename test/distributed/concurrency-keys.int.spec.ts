import { describeDistributed } from './support/infra.util';
import { scenario } from './support/scenario.util';

/**
 * Issue 16 item 3 on real NATS + PostgreSQL (scheduler and two executors as processes): a step
 * with `concurrency: { limit: 2, key: customer }` across 3 customers x 20 runs never has more
 * than 2 attempts of a customer running at once (from the handlers' own start/done records),
 * every run completes, and every slot row ends released.
 */
describeDistributed('concurrency keys', { nats: true, postgres: true }, () => {
  scenario('3 keys x 20 runs with limit 2: never more than 2 per key in flight; all complete; no slot left held', 120_000, async (s) => {
    await Promise.all([s.spawn('scheduler'), s.spawn('executor', { WEFT_CONCURRENCY: '40' }), s.spawn('executor', { WEFT_CONCURRENCY: '40' })]);
    const bus = await s.bus();
    const spec = {
      apiVersion: 'weft/v1',
      kind: 'Workflow',
      name: 'per-customer',
      inputs: { customer: { type: 'string' } },
      steps: [{ id: 'call', action: 'test.record', with: { file: s.recordFile, ms: 60 }, concurrency: { limit: 2, key: '${{ inputs.customer }}' } }],
    };
    const ids: string[] = [];
    for (const customer of ['a', 'b', 'c']) {
      for (let i = 0; i < 20; i++) {
        const runId = `${customer}-${i}-${s.prefix}`;
        ids.push(runId);
        await bus.publish('weft.run.requested', { idempotencyKey: runId, runId, workflow: 'per-customer', spec, inputs: { customer }, source: 'test' });
      }
    }
    for (const id of ids) await s.waitForStatus(id, 'completed', 90_000);

    const records = (await s.records()).filter((r) => r.event === 'start' || r.event === 'done');
    // At equal times a done goes first: only a real overlap counts.
    records.sort((x, y) => x.at - y.at || (x.event === 'done' ? -1 : 1) - (y.event === 'done' ? -1 : 1));
    const running = new Map<string, number>();
    const most = new Map<string, number>();
    for (const r of records) {
      const key = r.runId.split('-')[0] ?? '';
      running.set(key, (running.get(key) ?? 0) + (r.event === 'start' ? 1 : -1));
      most.set(key, Math.max(most.get(key) ?? 0, running.get(key) ?? 0));
    }
    expect(records.filter((r) => r.event === 'start')).toHaveLength(60);
    expect(Object.fromEntries(most)).toEqual({ a: 2, b: 2, c: 2 });
    const held = await s.sql<{ n: number }>(`SELECT count(*)::int AS n FROM concurrency_slots WHERE state <> 'released'`);
    expect(held[0]?.n ?? -1).toBe(0);
  });
});
