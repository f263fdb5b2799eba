import { InMemoryBus } from './in-memory.bus';

const dispatch = (stepId: string) => ({
  runId: 'r1', workflow: 'w', stepId, attempt: 1, token: 't', action: 'noop', input: {}, queue: 'io', timeoutMs: 1000,
});

describe('InMemoryBus', () => {
  it('delivers a published dispatch to a group that subscribed later', async () => {
    const bus = new InMemoryBus();
    await bus.publish('weft.step.dispatch.io', dispatch('a'), { msgId: 'r1:a:1', headers: { traceparent: 'tp' } });
    const got = await new Promise<{ stepId: string; headers: Record<string, string> }>((resolve) => {
      void bus.consume('weft.step.dispatch.io', { group: 'exec' }, async (d) => resolve({ stepId: d.data.stepId, headers: d.headers }));
    });
    expect(got.stepId).toBe('a');
    expect(got.headers.traceparent).toBe('tp');
    await bus.close();
  });
});
