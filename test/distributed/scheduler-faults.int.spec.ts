import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { POSTGRES_URL, describeDistributed } from './support/infra.util';
import { scenario } from './support/scenario.util';
import { tcpProxy } from './support/tcp-proxy.util';
import { holdsFor, waitFor } from './support/wait.util';

// The scheduler crashes between commit and publish, or loses PostgreSQL mid-run:
// the outbox and unacknowledged messages carry the run through.
describeDistributed('scheduler faults', { nats: true, postgres: true }, () => {
  scenario('killed between commit and publish: the outbox delivers after a restart', 40_000, async (s) => {
    // A lease far longer than the test: the step can only be dispatched by the outbox relay, not re-dispatched by the reaper.
    const lease = { WEFT_LEASE_MS: '60000' };
    const [crashing] = await Promise.all([s.spawn('scheduler', { ...lease, WEFT_TEST_CRASH_AFTER_COMMIT: 'true' }), s.spawn('executor')]);
    const runId = await s.submit('crash-after-commit', [
      { id: 'a', with: { file: s.recordFile } },
      { id: 'b', needs: ['a'], with: { file: s.recordFile } },
    ]);
    expect(await crashing.exited).toEqual({ code: 86, signal: null });
    await crashing.waitForOutput(/WEFT_TEST_CRASH_AFTER_COMMIT/, 1_000);

    // Committed: the run and its first dispatch are in PostgreSQL, and nothing went out.
    const committed = await (await s.store()).getRun(runId);
    expect(committed?.status).toBe('running');
    expect(committed?.steps.a?.status).toBe('queued');
    const pending = await s.sql<{ subject: string }>(`SELECT subject FROM outbox WHERE run_id = $1 AND published_at IS NULL ORDER BY id`, [runId]);
    expect(pending.map((p) => p.subject)).toEqual(expect.arrayContaining(['weft.step.dispatch.default', 'weft.event.run.queued', 'weft.event.run.started']));
    expect(await s.records()).toEqual([]);

    await s.spawn('scheduler', lease);
    const run = await s.waitForStatus(runId, 'completed', 20_000);
    expect(Object.values(run.steps).map((step) => [step.id, step.status, step.attempt])).toEqual([
      ['a', 'completed', 1],
      ['b', 'completed', 1],
    ]);
    // Every row goes out and is marked: the last transition's marks land after its PubAcks, which may be after the run reads completed.
    const unsent = async () => (await s.sql<{ n: number }>(`SELECT count(*)::int AS n FROM outbox WHERE run_id = $1 AND published_at IS NULL`, [runId]))[0]?.n;
    await waitFor(async () => (await unsent()) === 0, { timeoutMs: 10_000, what: 'every outbox row of the run marked published' });
    expect((await s.records()).filter((r) => r.event === 'start').map((r) => r.stepId)).toEqual(['a', 'b']);
  });

  scenario('PostgreSQL unreachable: readiness fails, results stay unacknowledged, and the run completes once it is back', 50_000, async (s) => {
    const direct = new URL(POSTGRES_URL);
    const proxy = await tcpProxy({ host: direct.hostname, port: Number(direct.port) || 5432 });
    s.onCleanup(() => proxy.close());
    // the same database (TEST_DATABASE_URL may name another), through the proxy
    const viaProxy = Object.assign(new URL(POSTGRES_URL), { hostname: '127.0.0.1', port: String(proxy.port) }).toString();
    // The lease outlasts the outage: results held back by it must not look like lost workers.
    const [scheduler] = await Promise.all([
      s.spawn('scheduler', { DATABASE_URL: viaProxy, WEFT_LEASE_MS: '20000' }),
      s.spawn('executor'),
      s.spawn('executor'),
    ]);
    const fan = Array.from({ length: 6 }, (_, i) => ({ id: `f${i}`, with: { file: s.recordFile, ms: 1200 } }));
    const runId = await s.submit('postgres-outage', [...fan, { id: 'join', needs: fan.map((f) => f.id), with: { file: s.recordFile } }]);
    await waitFor(async () => (await s.records()).filter((r) => r.event === 'start').length === 6, { timeoutMs: 15_000, what: 'the six steps to start' });

    proxy.cut();
    const unready = await waitFor(
      async () => {
        const health = await scheduler.health();
        return health.status === 503 ? health : undefined;
      },
      { timeoutMs: 10_000, what: 'readiness to fail' },
    );
    expect(unready.body.checks?.postgres?.ok).toBe(false);
    expect(unready.body.checks?.nats?.ok).toBe(true);

    // The executors finish and publish while the scheduler cannot commit: nothing is acknowledged.
    await waitFor(async () => (await s.records()).filter((r) => r.event === 'done').length === 6, { timeoutMs: 15_000, what: 'the six steps to finish' });
    const inbox = `${s.prefix.toUpperCase()}_WEFT_INBOX`;
    const unacked = await waitFor(
      async () => {
        const info = await consumerInfo(s.natsUrl, inbox, 'scheduler-results__weft_step_result');
        return info.num_ack_pending + info.num_pending >= 6 ? info : undefined;
      },
      { timeoutMs: 10_000, what: 'six unacknowledged results' },
    );
    expect(unacked.num_ack_pending + unacked.num_pending).toBeGreaterThanOrEqual(6);
    // While the outage lasts the results are held, not bounced: every redelivery counts towards
    // the consumer's max deliveries, and a result dead-lettered in a long outage would be lost.
    await holdsFor(2_500, async () => {
      const info = await consumerInfo(s.natsUrl, inbox, 'scheduler-results__weft_step_result');
      expect({ unacked: info.num_ack_pending + info.num_pending >= 6, redelivered: info.num_redelivered }).toEqual({ unacked: true, redelivered: 0 });
      expect((await scheduler.health()).status).toBe(503);
    });
    expect(scheduler.running).toBe(true);

    proxy.restore();
    await scheduler.waitReady(15_000);
    const run = await s.waitForStatus(runId, 'completed', 20_000);
    for (const step of Object.values(run.steps)) expect([step.id, step.status, step.attempt]).toEqual([step.id, 'completed', 1]);
    const starts = (await s.records()).filter((r) => r.event === 'start').map((r) => r.stepId);
    expect(starts.sort()).toEqual([...fan.map((f) => f.id), 'join'].sort());
    expect(await (await s.bus()).deadLetters()).toEqual([]);
    // Every result is acknowledged once committed; the last one's ack may follow the run's
    // completion by up to the bus's ack delay (held acks, docs/bus.md), so wait for it.
    const drained = await waitFor(
      async () => {
        const info = await consumerInfo(s.natsUrl, inbox, 'scheduler-results__weft_step_result');
        return info.num_ack_pending + info.num_pending === 0 ? info : undefined;
      },
      { timeoutMs: 10_000, what: 'every result acknowledged' },
    );
    expect(drained.num_ack_pending + drained.num_pending).toBe(0);
  });
});

async function consumerInfo(servers: string, stream: string, consumer: string): Promise<{ num_ack_pending: number; num_pending: number; num_redelivered: number }> {
  const nc = await connect({ servers });
  try {
    const jsm = await jetstreamManager(nc);
    return await jsm.consumers.info(stream, consumer);
  } finally {
    await nc.close();
  }
}
