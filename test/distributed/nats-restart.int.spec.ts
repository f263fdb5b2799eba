import { describeDistributed } from './support/infra.util';
import { PrivateNats } from './support/private-nats.util';
import { scenario } from './support/scenario.util';
import { waitFor } from './support/wait.util';

// The broker itself goes down mid-run. A private nats-server (never the shared one on
// 4222) is killed and restarted on the same port and store directory.
describeDistributed('NATS restarted mid-run', { postgres: true, natsServer: true }, () => {
  scenario('the clients reconnect, consumers resume, and a step that finished during the outage is reported, not run again', 60_000, async (s) => {
    const nats = await PrivateNats.start();
    s.onCleanup(() => nats.close());
    s.addLogSource(() => nats.output());
    s.natsUrl = nats.url;

    // The outage (a few seconds) stays inside the lease and the dispatch's ack wait (30 s): nothing
    // may presume the executor lost. What is left to prove is that the result it could not publish
    // gets through once NATS is back, so the step is not run again.
    const [scheduler, executor] = await Promise.all([s.spawn('scheduler', { WEFT_LEASE_MS: '25000' }), s.spawn('executor')]);
    const runId = await s.submit('nats-restart', [
      { id: 'a', with: { file: s.recordFile, ms: 1500 } },
      { id: 'b', needs: ['a'], with: { file: s.recordFile } },
      { id: 'c', needs: ['b'], with: { file: s.recordFile } },
    ]);
    await waitFor(async () => (await s.records()).some((r) => r.stepId === 'a' && r.event === 'start'), { timeoutMs: 15_000, what: 'step a to start' });

    await nats.kill();
    // Readiness reports the broker, and the processes stay up.
    await waitFor(async () => (await scheduler.health()).status === 503, { timeoutMs: 10_000, what: 'scheduler readiness to fail without NATS' });
    await waitFor(async () => (await executor.health()).status === 503, { timeoutMs: 10_000, what: 'executor readiness to fail without NATS' });
    // Step a finishes while the broker is away: its result cannot be published yet, so the executor holds the step and retries.
    await waitFor(async () => (await s.records()).some((r) => r.stepId === 'a' && r.event === 'done'), { timeoutMs: 10_000, what: 'step a to finish' });
    await waitFor(() => executor.output().includes('retrying while holding the step'), { timeoutMs: 10_000, what: 'the executor to retry the result' });

    await nats.boot();
    await Promise.all([scheduler.waitReady(20_000), executor.waitReady(20_000)]);
    const run = await s.waitForStatus(runId, 'completed', 30_000);
    expect(Object.values(run.steps).map((step) => [step.id, step.status, step.attempt])).toEqual([
      ['a', 'completed', 1],
      ['b', 'completed', 1],
      ['c', 'completed', 1],
    ]);
    // Each handler ran once: step a's work was not thrown away.
    const runs = (await s.records()).filter((r) => r.runId === runId && r.event === 'start').map((r) => [r.stepId, r.attempt]);
    expect(runs).toEqual([
      ['a', 1],
      ['b', 1],
      ['c', 1],
    ]);
    expect(executor.output()).toContain('published the step result after retrying');
    expect(scheduler.running && executor.running).toBe(true);
    // And the deployment keeps working after the restart. The test's own producer reconnects on its
    // own schedule (nats.js tries every 2 s; a publish made before it has reconnected fails with a
    // timeout after 5 s, as any producer's would): wait for it as for the services.
    const producer = await s.bus();
    await waitFor(async () => (await producer.health()).ok, { timeoutMs: 20_000, what: "the test's producer to reconnect" });
    const next = await s.submit('after-restart', [{ id: 'x', with: { file: s.recordFile } }]);
    await s.waitForStatus(next, 'completed', 15_000);
  });
});
