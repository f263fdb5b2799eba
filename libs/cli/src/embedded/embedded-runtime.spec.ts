import { defineAction, NonRetryableError, workflow } from '@weft/sdk';
import { startEmbedded } from './embedded-runtime';

describe('startEmbedded with handlers registered in code', () => {
  it('runs SDK-defined actions and reports their errors', async () => {
    const greet = defineAction<{ name: string }>({
      name: 'greet',
      handler: async (input) => {
        if (!input.name) throw new NonRetryableError('no name', { code: 'NO_NAME' });
        return { text: `hello ${input.name}` };
      },
    });
    const runtime = await startEmbedded({ actions: [greet] });
    try {
      const ok = await runtime.run(workflow('hello').step('hi', 'greet', { with: { name: 'ada' } }).output('text', '${{ steps.hi.output.text }}').build(), {});
      expect(ok).toMatchObject({ status: 'completed', outputs: { text: 'hello ada' } });
      const bad = await runtime.run(workflow('hello').step('hi', 'greet', { with: { name: '' }, retry: { maxAttempts: 3 } }).build(), {});
      expect(bad.status).toBe('failed');
      expect(bad.steps.hi).toMatchObject({ attempt: 1, error: { code: 'NO_NAME', message: 'no name' } });
    } finally {
      await runtime.close();
    }
  });
});

describe('startEmbedded watching runs', () => {
  it('reads lifecycle events only once run() watches: a runtime driven through its scheduler has no event consumer', async () => {
    const runtime = await startEmbedded();
    try {
      const spec = workflow('quiet').step('a', 'noop').build();
      await runtime.scheduler.startRun({ idempotencyKey: 'k1', runId: 'quiet-1', workflow: spec.name, spec, inputs: {}, source: 'cli' });
      const eventGroups = async () => (await runtime.bus.consumerStats()).filter((c) => c.filter === 'weft.event.>').map((c) => c.group);
      expect(await eventGroups()).toEqual([]);
      // The first run() subscribes and sees its run to the end.
      const seen: string[] = [];
      const state = await runtime.run(spec, {}, { onEvent: (event) => seen.push(event.type) });
      expect(state.status).toBe('completed');
      expect(seen).toContain('run.completed');
      expect(await eventGroups()).toEqual([`embedded-watch-${process.pid}`]);
    } finally {
      await runtime.close();
    }
  });
});
