import { InMemoryBus } from '@weft/bus';
import type { LifecycleEvent } from '@weft/contracts';
import { eventSeq, RunEventsHub } from './run-events.hub';
import { waitUntil } from '../../testing/run-store.fixtures';

const event = (runId: string, seq: number, type: LifecycleEvent['type'] = 'step.completed'): LifecycleEvent => ({
  eventId: `${runId}:${seq}:0`,
  type,
  runId,
  workflow: 'w',
  version: 'adhoc',
  status: 'running',
  at: new Date(0).toISOString(),
});

describe('RunEventsHub', () => {
  let bus: InMemoryBus;

  beforeEach(() => {
    bus = new InMemoryBus();
  });

  afterEach(async () => {
    await bus.close();
  });

  it('is live from start(): events stored before it started are not replayed, later ones reach the run’s watchers only', async () => {
    await bus.publish('weft.event.step.completed', event('old', 1));
    const hub = new RunEventsHub(bus, { group: 'api-test' });
    await hub.start();
    const seen: string[] = [];
    const stopOld = hub.watch('old', (e) => seen.push(e.eventId));
    const stopNew = hub.watch('new', (e) => seen.push(e.eventId));
    await bus.publish('weft.event.step.completed', event('new', 1));
    await bus.publish('weft.event.step.completed', event('other', 1));
    await bus.publish('weft.event.run.completed', event('new', 2, 'run.completed'));
    await waitUntil(() => seen.length >= 2, 'the new run’s events', 5_000);
    expect(seen).toEqual(['new:1:0', 'new:2:0']);
    stopOld();
    stopNew();
    expect(hub.watchedRuns()).toBe(0);
    await hub.stop();
  });

  it('leaves no consumer behind when it stops', async () => {
    const hub = new RunEventsHub(bus, { group: 'api-test' });
    await hub.start();
    expect((await bus.consumerStats()).map((s) => s.name)).toEqual(['api-test__weft_event_ALL']);
    await hub.stop();
    expect(await bus.consumerStats()).toEqual([]);
  });

  it('reads the transition from an event id', () => {
    expect(eventSeq(event('run:1', 7))).toBe(7);
    expect(eventSeq({ ...event('r', 1), eventId: 'nonsense' })).toBeUndefined();
  });
});
