import { describeDistributed } from './support/infra.util';
import { PrivateNats } from './support/private-nats.util';
import { scenario } from './support/scenario.util';
import { waitFor } from './support/wait.util';

// The broker itself goes down mid-run. A private nats-server (never the shared one on
// 4222) is killed and restarted on the same port and store directory.
describeDistributed('NATS restarted mid-run', { postgres: true, natsServer: true }, () => {
  scenario('the clients reconnect, consumers resume, and the run completes', 60_000, async (s) => {
    const nats = await PrivateNats.start();
    s.onCleanup(() => nats.close());
    s.addLogSource(() => nats.output());
    s.natsUrl = nats.url;

    const [scheduler, executor] = await Promise.all([s.spawn('scheduler'), s.spawn('executor')]);
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
    // Step a finishes while the broker is away: its result cannot be published yet.
    await waitFor(async () => (await s.records()).some((r) => r.stepId === 'a' && r.event === 'done'), { timeoutMs: 10_000, what: 'step a to finish' });

    await nats.boot();
    await Promise.all([scheduler.waitReady(20_000), executor.waitReady(20_000)]);
    const run = await s.waitForStatus(runId, 'completed', 30_000);
    expect(Object.values(run.steps).map((step) => [step.id, step.status])).toEqual([
      ['a', 'completed'],
      ['b', 'completed'],
      ['c', 'completed'],
    ]);
    expect(scheduler.running && executor.running).toBe(true);
    // And the deployment keeps working after the restart.
    const next = await s.submit('after-restart', [{ id: 'x', with: { file: s.recordFile } }]);
    await s.waitForStatus(next, 'completed', 15_000);
  });
});
