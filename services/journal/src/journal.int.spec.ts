import { eventSubject, type LifecycleEvent } from '@weft/contracts';
import { describeProjectionOnNats } from '@weft/platform/testing';
import { storyOfARun, waitFor } from './testing/journal.fixtures';
import type { NewJournalEntry } from './domain/journal-entry.util';
import { JournalModule } from './journal.module';
import type { JournalStore } from './ports/journal-store.port';
import { openJournalStore, type SqlJournalStore } from './persistence/sql-journal.store';

/**
 * A store that makes the broker redeliver: for chosen events it commits and then
 * fails (the ack is lost, as in a crash after commit), or stalls past the ack wait.
 */
class RedeliveringStore implements JournalStore {
  readonly deliveries = new Map<string, number>();
  constructor(
    private readonly inner: SqlJournalStore,
    private readonly failAfterCommit: ReadonlySet<string>,
    private readonly stallPastAckWait: ReadonlySet<string>,
    private readonly stallMs: number,
  ) {}

  async record(entry: NewJournalEntry): Promise<{ recorded: boolean }> {
    const id = entry.entry.eventId;
    const seen = (this.deliveries.get(id) ?? 0) + 1;
    this.deliveries.set(id, seen);
    const result = await this.inner.record(entry);
    if (seen === 1 && this.failAfterCommit.has(id)) throw new Error(`simulated crash after committing ${id}`);
    if (seen === 1 && this.stallPastAckWait.has(id)) await new Promise((resolve) => setTimeout(resolve, this.stallMs));
    return result;
  }

  runEvents = (runId: string) => this.inner.runEvents(runId);
  findEvents: JournalStore['findEvents'] = (query) => this.inner.findEvents(query);
  checkpoints = (runId: string) => this.inner.checkpoints(runId);
  checkpoint = (runId: string, stepId: string) => this.inner.checkpoint(runId, stepId);
  pruneBatch = (before: number, batchSize: number) => this.inner.pruneBatch(before, batchSize);
  now = () => this.inner.now();
  close = () => this.inner.close();
}

describeProjectionOnNats('journal', openJournalStore, (harness) => {
  it('journals every event exactly once despite duplicates under other message ids and forced redeliveries', async () => {
    const { prefix, bus, store: inner, dataSource } = harness;
    const runs = ['run-a', 'run-b', 'run-c'].map((r) => `${prefix}-${r}`);
    const stories = runs.map(storyOfARun);
    const all = stories.flat();
    const [a, b, c] = stories;
    // Crashes after commit (nak -> redelivery) and a stall past the ack wait (JetStream redelivers while the first is still running).
    const failAfterCommit = new Set([a[0].eventId, a[4].eventId, b[11].eventId, c[16].eventId]);
    const stall = new Set([b[4].eventId, c[0].eventId]);
    const store = new RedeliveringStore(inner, failAfterCommit, stall, 2_500);
    const journal = JournalModule.forRoot({ bus, store, http: false, consumer: { ackWaitMs: 1_000, concurrency: 8 } });
    await harness.start(journal);
    expect(await JournalModule.readiness(journal).check()).toMatchObject({ ok: true });

    const publish = (event: LifecycleEvent, msgId: string) => bus.publish(eventSubject(event.type), event, { msgId });
    for (const event of all) await publish(event, event.eventId);
    // The same events again under new message ids: the broker cannot drop them, the journal must.
    for (const event of a) await publish(event, `${event.eventId}:again`);
    for (const event of c.slice(10)) await publish(event, `${event.eventId}:third`);

    await waitFor(
      async () => {
        const info = await harness.eventConsumer('journal__weft_event_ALL');
        return info.num_pending === 0 && info.num_ack_pending === 0 && [...failAfterCommit, ...stall].every((id) => (store.deliveries.get(id) ?? 0) >= 2);
      },
      'every delivery settled and every forced redelivery happened',
      30_000,
    );

    const counts: { total: number; distinct: number }[] = await dataSource.query('SELECT count(*)::int AS total, count(DISTINCT event_id)::int AS distinct FROM journal_entries');
    expect(counts[0]).toEqual({ total: all.length, distinct: all.length });
    for (const [i, runId] of runs.entries()) {
      expect((await inner.runEvents(runId)).map((e) => e.eventId)).toEqual(stories[i].map((e) => e.eventId));
      const checkpoints = await inner.checkpoints(runId);
      expect(checkpoints.map((cp) => [cp.stepId, cp.state])).toEqual([
        ['ingest', { ingest: { rows: 3 } }],
        ['validate', { ingest: { rows: 3 }, validate: { valid: true } }],
      ]);
    }
    // Redelivery really happened, and more than once for the duplicated events.
    expect(store.deliveries.get(a[0].eventId)).toBeGreaterThanOrEqual(3);
    expect(store.deliveries.get(b[4].eventId)).toBeGreaterThanOrEqual(2);
    expect(await bus.deadLetters()).toEqual([]);
  }, 60_000);
});
