import { randomUUID } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { JetStreamBus } from '@weft/bus';
import { MemoryRunStore, Scheduler } from '@weft/scheduler';
import { defineAction, NonRetryableError, startWorker, workflow } from '@weft/sdk';
import { describeDistributed, SHARED_NATS_URL } from '../distributed/support/infra.util';
import { waitFor } from '../distributed/support/wait.util';

// Handlers registered in code through the SDK serve a real deployment's queue on NATS.
describeDistributed('SDK startWorker on NATS', { nats: true }, () => {
  const prefix = `sdkw${randomUUID().slice(0, 8)}`;
  let bus: JetStreamBus;
  let scheduler: Scheduler;
  const store = new MemoryRunStore();

  beforeAll(async () => {
    bus = await JetStreamBus.connect({ servers: SHARED_NATS_URL, prefix });
    scheduler = new Scheduler({ bus, store, pollIntervalMs: 50 });
    await scheduler.start();
  });
  afterAll(async () => {
    await scheduler.stop();
    const names = bus.streamNames();
    await bus.close();
    const nc = await connect({ servers: SHARED_NATS_URL });
    const jsm = await jetstreamManager(nc);
    for (const name of names) await jsm.streams.delete(name).catch(() => false);
    await nc.close();
  });

  it('runs a workflow whose steps are handled by code-registered actions', async () => {
    const seen: string[] = [];
    const greet = defineAction<{ name: string }>({
      name: 'greet',
      handler: async (input, ctx) => {
        seen.push(`${ctx.stepId}#${ctx.attempt}`);
        return { text: `hello ${input.name}` };
      },
    });
    const refuse = defineAction({
      name: 'refuse',
      handler: () => {
        throw new NonRetryableError('refused on purpose', { code: 'NOPE' });
      },
    });
    const running = await startWorker({ natsUrl: SHARED_NATS_URL, prefix, queues: ['sdk'], actions: [greet, refuse] });
    try {
      const spec = workflow('sdk-worker')
        .step('hi', 'greet', { with: { name: 'ada' }, queue: 'sdk' })
        .step('no', 'refuse', { needs: ['hi'], queue: 'sdk', retry: { maxAttempts: 3 } })
        .build();
      const { runId } = await scheduler.startRun({ idempotencyKey: randomUUID(), workflow: spec.name, spec, inputs: {} });
      const state = await waitFor(async () => {
        const run = await store.getRun(runId);
        return run && ['completed', 'failed'].includes(run.status) ? run : undefined;
      }, { timeoutMs: 20_000 });
      expect(state.status).toBe('failed');
      expect(state.steps.hi).toMatchObject({ status: 'completed', output: { text: 'hello ada' } });
      // Non-retryable: one attempt despite maxAttempts 3.
      expect(state.steps.no).toMatchObject({ status: 'failed', attempt: 1, error: { code: 'NOPE' } });
      expect(seen).toEqual(['hi#1']);
    } finally {
      await running.stop();
    }
  }, 30_000);
});
