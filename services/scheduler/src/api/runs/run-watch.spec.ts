import { InMemoryBus } from '@weft/bus';
import type { LifecycleEvent } from '@weft/contracts';
import type { RunState } from '@weft/core';
import { RunEventsHub } from './run-events.hub';
import { RunWatch } from './run-watch';

const event = (seq: number, n: number, type: LifecycleEvent['type'], status: LifecycleEvent['status'] = 'running'): LifecycleEvent => ({
  eventId: `run:1:${seq}:${n}`,
  type,
  runId: 'run:1',
  workflow: 'w',
  version: 'adhoc',
  status,
  at: new Date(0).toISOString(),
});

const state = (seq: number, status: RunState['status'] = 'running'): RunState =>
  ({ runId: 'run:1', workflow: 'w', version: 'adhoc', spec: {}, plan: [], steps: {}, status, inputs: {}, createdAt: 0, seq }) as unknown as RunState;

describe('RunWatch', () => {
  let bus: InMemoryBus;
  let hub: RunEventsHub;

  beforeEach(async () => {
    bus = new InMemoryBus();
    hub = new RunEventsHub(bus, { group: 'api-test' });
    await hub.start();
  });

  afterEach(async () => {
    await hub.stop();
    await bus.close();
  });

  it('sends the snapshot, then only newer events once each (several per transition), until the run ends', async () => {
    let current = state(3);
    const watch = new RunWatch(hub, { getRun: async () => current }, { pollMs: 60_000 });
    const seen: string[] = [];
    const following = watch.follow('run:1', { snapshot: (s) => seen.push(`snapshot@${s.seq}`), event: (e) => seen.push(e.eventId) });
    await new Promise((resolve) => setImmediate(resolve));
    // Older than the snapshot, a duplicate, two of one transition, then the end.
    for (const e of [event(2, 0, 'step.started'), event(4, 0, 'step.completed'), event(4, 0, 'step.completed'), event(5, 0, 'step.completed'), event(5, 1, 'run.completed', 'completed')]) {
      await bus.publish(`weft.event.${e.type}`, e);
    }
    current = state(5, 'completed');
    const final = await following;
    expect(seen).toEqual(['snapshot@3', 'run:1:4:0', 'run:1:5:0', 'run:1:5:1']);
    expect(final?.status).toBe('completed');
    expect(hub.watchedRuns()).toBe(0);
  });

  it('ends from the database when the last event never comes', async () => {
    let current = state(1);
    const watch = new RunWatch(hub, { getRun: async () => current }, { pollMs: 20 });
    const following = watch.follow('run:1', { snapshot: () => undefined, event: () => undefined });
    current = state(9, 'failed');
    expect((await following)?.status).toBe('failed');
  });

  it('gives up at the timeout or the signal with the state it has, and knows no unknown run', async () => {
    const watch = new RunWatch(hub, { getRun: async (id) => (id === 'run:1' ? state(1) : undefined) }, { pollMs: 10_000 });
    expect((await watch.waitForEnd('run:1', 30))?.status).toBe('running');
    const controller = new AbortController();
    const waiting = watch.waitForEnd('run:1', 60_000, controller.signal);
    controller.abort();
    expect((await waiting)?.status).toBe('running');
    expect(await watch.waitForEnd('nope', 10)).toBeUndefined();
  });
});
