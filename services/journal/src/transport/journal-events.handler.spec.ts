import { InMemoryBus } from '@weft/bus';
import { FlakyKeyedStore } from '@weft/platform/testing';
import { metricValue } from '@weft/telemetry';
import { eventSubject, LIFECYCLE_BATCH_SUBJECT, type LifecycleEvent } from '@weft/contracts';
import type { NewJournalEntry } from '../domain/journal-entry.util';
import { lifecycleEvent, waitFor } from '../testing/journal.fixtures';
import { RecordEventUseCase } from '../domain/record-event.usecase';
import { isTerminal, JournalEventsHandler } from './journal-events.handler';

/** A store that keeps entries by event id and can be told to fail. */
class FakeStore extends FlakyKeyedStore<NewJournalEntry> {
  readonly entries = this.kept;

  async record(entry: NewJournalEntry): Promise<{ recorded: boolean }> {
    return { recorded: await this.keep(entry.entry.eventId, entry) };
  }
}

describe('JournalEventsHandler', () => {
  let bus: InMemoryBus;
  let store: FakeStore;
  let handler: JournalEventsHandler;
  const publish = (event: LifecycleEvent, msgId: string = event.eventId) => bus.publish(eventSubject(event.type), event, { msgId });

  beforeEach(async () => {
    bus = new InMemoryBus({ errorNakDelayMs: 5 });
    store = new FakeStore();
    handler = new JournalEventsHandler(bus, new RecordEventUseCase(store), { maxDeliver: 3 });
    await handler.start();
  });

  afterEach(async () => {
    await handler.stop();
    await bus.close();
  });

  it('journals each event once even when it is published twice under different message ids', async () => {
    const event = lifecycleEvent('r1', 1, 0, 0, { type: 'run.queued', status: 'queued' });
    await publish(event, 'first');
    await publish(event, 'second');
    await waitFor(() => store.calls === 2, 'both deliveries handled');
    expect([...store.entries.keys()]).toEqual(['r1:1:0']);
    expect(await bus.deadLetters()).toEqual([]);
  });

  it('moves weft_journal_lag_seconds: now minus the time of the last event journaled', async () => {
    const at = new Date(Date.now() - 60_000).toISOString();
    await publish({ ...lifecycleEvent('lag', 1, 0, 0, { type: 'run.queued', status: 'queued' }), at });
    await waitFor(() => store.entries.has('lag:1:0'), 'the event journaled');
    const lag = await metricValue('weft_journal_lag_seconds');
    expect(lag).toBeGreaterThanOrEqual(59);
    expect(lag).toBeLessThan(120);
  });

  it('lets a store failure redeliver the event until it is recorded', async () => {
    store.failNext = [new Error('connection terminated')];
    await publish(lifecycleEvent('r2', 1, 0, 0, { type: 'run.queued', status: 'queued' }));
    await waitFor(() => store.entries.has('r2:1:0'), 'the redelivered event journaled');
    expect(store.calls).toBe(2);
    expect(await bus.deadLetters()).toEqual([]);
  });

  it('dead-letters, without retrying, an event it can never record and data the database refuses', async () => {
    await publish(lifecycleEvent('r3', 1, 0, 0, { type: 'step.failed', status: 'failed' }));
    store.failNext = [Object.assign(new Error('unsupported Unicode escape sequence'), { code: '22P05' })];
    await publish(lifecycleEvent('r3', 2, 0, 0, { type: 'run.queued', status: 'queued' }));
    await waitFor(async () => (await bus.deadLetters()).length === 2, 'two dead letters');
    const dead = await bus.deadLetters();
    expect(dead.map((d) => [d.group, d.deliveryCount])).toEqual([
      ['journal', 1],
      ['journal', 1],
    ]);
    const reasons = dead.map((d) => d.reason).sort();
    expect(reasons).toEqual([expect.stringMatching(/^journal: event r3:1:0: step.failed without a stepId/), expect.stringMatching(/^journal: unsupported Unicode/)]);
    expect(store.entries.size).toBe(0);
  });

  it("journals each event of a transition's batch once; a store failure on one event brings the batch back, and the others are duplicates", async () => {
    const events = [
      lifecycleEvent('r4', 3, 0, 0, { type: 'step.started', status: 'running', stepId: 'a', attempt: 1 }),
      lifecycleEvent('r4', 3, 1, 0, { type: 'step.completed', status: 'completed', stepId: 'a', attempt: 1 }),
      lifecycleEvent('r4', 3, 2, 0, { type: 'run.completed', status: 'completed' }),
    ];
    store.failNext = [undefined, new Error('connection terminated')];
    await bus.publish(LIFECYCLE_BATCH_SUBJECT, { events } as never, { msgId: 'r4:3:events:0-2' });
    await waitFor(() => store.entries.size === 3 && store.calls === 6, 'the batch journaled on its second delivery');
    expect([...store.entries.keys()].sort()).toEqual(['r4:3:0', 'r4:3:1', 'r4:3:2']);
    expect(await bus.deadLetters()).toEqual([]);
  });

  it('reports readiness only while bound', async () => {
    expect(await handler.health()).toMatchObject({ ok: true });
    await handler.stop();
    expect(await handler.health()).toEqual({ ok: false, detail: 'journal consumer stopped' });
  });
});

describe('isTerminal', () => {
  it('terms invalid events and SQLSTATE class 22, retries everything else', () => {
    expect(isTerminal(Object.assign(new Error('x'), { driverError: { code: '22021' } }))).toBe(true);
    expect(isTerminal(Object.assign(new Error('x'), { code: '40001' }))).toBe(false);
    expect(isTerminal(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe(false);
    expect(isTerminal(new Error('plain'))).toBe(false);
  });
});
