import { InMemoryBus } from '@weft/bus';
import { FlakyKeyedStore } from '@weft/platform/testing';
import { eventSubject, type LifecycleEvent } from '@weft/contracts';
import type { AggregateDelta } from '../domain/analytics.types';
import { fixedRuns, waitFor } from '../testing/analytics.fixtures';
import { RecordAnalyticsEventUseCase } from '../domain/record-event.usecase';
import { AnalyticsEventsHandler } from './analytics-events.handler';

/** A store that keeps deltas by event id and can be told to fail. */
class FakeStore extends FlakyKeyedStore<AggregateDelta> {
  readonly applied = this.kept;

  async apply(eventId: string, delta: AggregateDelta): Promise<{ applied: boolean }> {
    return { applied: await this.keep(eventId, delta) };
  }
}

describe('AnalyticsEventsHandler', () => {
  let bus: InMemoryBus;
  let store: FakeStore;
  let handler: AnalyticsEventsHandler;
  const publish = (event: LifecycleEvent, msgId: string = event.eventId) => bus.publish(eventSubject(event.type), event, { msgId });
  const completed = fixedRuns().find((e) => e.type === 'run.completed') as LifecycleEvent;

  beforeEach(async () => {
    bus = new InMemoryBus({ errorNakDelayMs: 5 });
    store = new FakeStore();
    handler = new AnalyticsEventsHandler(bus, new RecordAnalyticsEventUseCase(store));
    await handler.start();
  });

  afterEach(async () => {
    await handler.stop();
    await bus.close();
  });

  it('applies an event once, retries after a store failure, and never touches the store for uncounted events', async () => {
    store.failNext = [new Error('connection reset')];
    await publish(completed);
    await publish(completed, 'other-msg-id');
    await publish(fixedRuns()[0]); // run.queued: counts nothing
    await waitFor(() => store.calls === 3, 'first failure, redelivery and the duplicate');
    expect([...store.applied.keys()]).toEqual([completed.eventId]);
    expect(await bus.deadLetters()).toEqual([]);
  });

  it('dead-letters an event it can never count', async () => {
    await publish({ ...completed, eventId: 'bad:1:0', durationMs: -5 });
    await waitFor(async () => (await bus.deadLetters()).length === 1, 'a dead letter');
    expect((await bus.deadLetters())[0]).toMatchObject({ group: 'analytics', deliveryCount: 1, reason: expect.stringMatching(/^analytics: event bad:1:0: durationMs/) });
    expect(store.calls).toBe(0);
  });
});
