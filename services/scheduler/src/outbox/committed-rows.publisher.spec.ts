import type { Bus } from '@weft/bus';
import { eventSubject, type LifecycleEvent } from '@weft/contracts';
import type { OutboxRecord, Transition } from '../ports/run-store.port';
import { silentSchedulerLogger } from '../ports/scheduler-logger.port';
import { runningRun } from '../testing/run-store.fixtures';
import { CommittedRowsPublisher } from './committed-rows.publisher';
import { EVENT_ROWS_PER_TRANSITION, storedWithEventBatches } from './event-batches';

let nextId = 0;

function eventRow(seq: number, index: number, type: LifecycleEvent['type'], stepId?: string): OutboxRecord {
  const eventId = `r1:${seq}:${index}`;
  const payload: LifecycleEvent = { eventId, type, runId: 'r1', workflow: 'wf', version: '1', status: 'canceled', at: '2026-12-06T00:00:00.000Z', ...(stepId !== undefined && { stepId }) };
  return { id: String(++nextId), runId: 'r1', createdAt: 0, kind: 'publish', subject: eventSubject(type), msgId: eventId, payload };
}

/** A big cancel's rows as the SQL store writes them: one batch row holding every step.canceled and the run.canceled. */
function cancelRows(seq: number): OutboxRecord[] {
  const events = [...Array.from({ length: EVENT_ROWS_PER_TRANSITION + 5 }, (_, i) => eventRow(seq, i, 'step.canceled', `s${i}`)), eventRow(seq, EVENT_ROWS_PER_TRANSITION + 5, 'run.canceled')];
  const transition: Transition = { state: runningRun('r1', { seq }), outbox: events, schedule: [], cancel: [] };
  return storedWithEventBatches(transition).outbox.map((message) => ({ ...message, id: String(++nextId), runId: 'r1', createdAt: 0 }));
}

function recording(): { bus: Bus; sent: string[]; marks: { ids: readonly string[]; urgent: boolean }[]; publisher: CommittedRowsPublisher } {
  const sent: string[] = [];
  const publish = async (_subject: string, _payload: unknown, options?: { msgId?: string }) => void sent.push(options?.msgId ?? '');
  const bus = { publish, broadcast: publish } as unknown as Bus;
  const marks: { ids: readonly string[]; urgent: boolean }[] = [];
  const store = { markPublished: async (ids: readonly string[], options?: { urgent?: boolean }) => void marks.push({ ids, urgent: options?.urgent === true }) };
  return { bus, sent, marks, publisher: new CommittedRowsPublisher(bus, store, silentSchedulerLogger) };
}

describe('CommittedRowsPublisher', () => {
  it('publishes a heavy set (a batch row) on the next turn, not in the commit callback; sets committed after it wait behind it, in commit order', async () => {
    const { sent, publisher } = recording();
    const heavy = cancelRows(5);
    const light = [eventRow(6, 0, 'step.started', 'x')];
    publisher.publish(heavy);
    publisher.publish(light);
    expect(sent).toEqual([]);
    await publisher.drain();
    expect(sent).toEqual([...heavy.map((row) => row.msgId), 'r1:6:0']);

    // Nothing waits: a light set goes at once, as before.
    publisher.publish([eventRow(7, 0, 'step.started', 'y')]);
    expect(sent.at(-1)).toBe('r1:7:0');
  });

  it("marks a batch row carrying the run's terminal event at once (urgent), as a terminal event's own row", async () => {
    const { marks, publisher } = recording();
    const rows = cancelRows(5);
    publisher.publish(rows);
    await publisher.drain();
    expect(marks).toEqual([{ ids: rows.map((row) => row.id), urgent: true }]);
  });
});
