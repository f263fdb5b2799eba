import { type Bus, BusError, InMemoryBus } from '@weft/bus';
import { eventSubject, LIFECYCLE_BATCH_SUBJECT, type LifecycleEvent, MAX_EVENTS_PER_BATCH } from '@weft/contracts';
import type { OutboxRecord, Transition } from '../ports/run-store.port';
import { runningRun, waitFor } from '../testing/run-store.fixtures';
import { EVENT_ROWS_PER_TRANSITION, storedWithEventBatches } from './event-batches';
import { sendOutboxRows } from './outbox-sender';

let nextId = 0;

function eventRow(runId: string, seq: number, index: number, type: LifecycleEvent['type'], stepId?: string): OutboxRecord {
  const eventId = `${runId}:${seq}:${index}`;
  const payload: LifecycleEvent = { eventId, type, runId, workflow: 'wf', version: 'v1', status: 'running', at: '2026-12-06T00:00:00.000Z', ...(stepId !== undefined && { stepId }) };
  return { id: String(++nextId), runId, createdAt: 0, kind: 'publish', subject: eventSubject(type), msgId: eventId, payload, headers: { traceparent: `tp-${runId}` } };
}

function dispatchRow(runId: string, stepId: string): OutboxRecord {
  const token = `${runId}:${stepId}:1`;
  const payload = { runId, workflow: 'wf', stepId, attempt: 1, token, action: 'noop', input: {}, queue: 'default', timeoutMs: 1000 };
  return { id: String(++nextId), runId, createdAt: 0, kind: 'publish', subject: 'weft.step.dispatch.default', msgId: token, payload };
}

interface Sent {
  subject: string;
  msgId: string | undefined;
  payload: unknown;
}

/** Records every publish; `refuse` decides which fail and how. */
function recordingBus(refuse: (subject: string, payload: unknown) => Error | undefined = () => undefined): { bus: Bus; sent: Sent[] } {
  const sent: Sent[] = [];
  const publish = async (subject: string, payload: unknown, options?: { msgId?: string }) => {
    const error = refuse(subject, payload);
    if (error) throw error;
    sent.push({ subject, msgId: options?.msgId, payload });
  };
  return { bus: { publish, broadcast: publish } as unknown as Bus, sent };
}

const eventIds = (payload: unknown) => (payload as { events: LifecycleEvent[] }).events.map((e) => e.eventId);

describe('sendOutboxRows', () => {
  it("publishes a transition's events as one batch where its first event was, a lone event as itself, anything else as it is", async () => {
    const { bus, sent } = recordingBus();
    const rows = [
      eventRow('r1', 5, 0, 'step.completed', 'a'),
      dispatchRow('r1', 'b'),
      eventRow('r1', 5, 1, 'step.queued', 'b'),
      eventRow('r2', 9, 0, 'run.started'),
      eventRow('r1', 6, 0, 'step.started', 'b'),
      eventRow('r1', 6, 1, 'step.completed', 'b'),
      eventRow('r1', 6, 2, 'run.completed'),
    ];
    const outcomes = await sendOutboxRows(bus, rows);
    expect(outcomes.map((o) => o.status)).toEqual(rows.map(() => 'fulfilled'));
    expect(sent.map((s) => [s.subject, s.msgId])).toEqual([
      [LIFECYCLE_BATCH_SUBJECT, 'r1:5:events:0-1'],
      ['weft.step.dispatch.default', 'r1:b:1'],
      ['weft.event.run.started', 'r2:9:0'],
      [LIFECYCLE_BATCH_SUBJECT, 'r1:6:events:0-2'],
    ]);
    expect(eventIds(sent[0].payload)).toEqual(['r1:5:0', 'r1:5:1']);
    expect(sent[2].payload).toEqual(rows[3].payload);
    expect(eventIds(sent[3].payload)).toEqual(['r1:6:0', 'r1:6:1', 'r1:6:2']);
  });

  it('splits a transition with more than MAX_EVENTS_PER_BATCH events, each message named by the events it carries', async () => {
    const { bus, sent } = recordingBus();
    const rows = Array.from({ length: MAX_EVENTS_PER_BATCH + 2 }, (_, i) => eventRow('r1', 3, i, 'step.canceled', `s${i}`));
    await sendOutboxRows(bus, rows);
    expect(sent.map((s) => s.msgId)).toEqual([`r1:3:events:0-${MAX_EVENTS_PER_BATCH - 1}`, `r1:3:events:${MAX_EVENTS_PER_BATCH}-${MAX_EVENTS_PER_BATCH + 1}`]);
    expect(sent.flatMap((s) => eventIds(s.payload))).toEqual(rows.map((r) => r.msgId));
  });

  it('a relay pass holding only some of a transition\'s rows publishes another msgId, so JetStream never drops it as a repeat', async () => {
    const { bus, sent } = recordingBus();
    const rows = [0, 1, 2].map((i) => eventRow('r1', 4, i, 'step.queued', `s${i}`));
    await sendOutboxRows(bus, rows.slice(0, 2));
    await sendOutboxRows(bus, rows.slice(2));
    await sendOutboxRows(bus, rows);
    expect(sent.map((s) => s.msgId)).toEqual(['r1:4:events:0-1', 'r1:4:2', 'r1:4:events:0-2']);
  });

  it('sends a batch the broker refuses for good again event by event, so only the poison event fails; a transient failure fails every row of it', async () => {
    const tooLarge = recordingBus((subject, payload) =>
      subject === LIFECYCLE_BATCH_SUBJECT || (payload as LifecycleEvent).stepId === 'big' ? new BusError('PAYLOAD_TOO_LARGE', 'too large') : undefined,
    );
    const rows = [eventRow('r1', 7, 0, 'step.completed', 'ok'), eventRow('r1', 7, 1, 'step.completed', 'big'), dispatchRow('r1', 'next')];
    const outcomes = await sendOutboxRows(tooLarge.bus, rows);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(tooLarge.sent.map((s) => s.msgId)).toEqual(['r1:next:1', 'r1:7:0']);

    const away = recordingBus((subject) => (subject === LIFECYCLE_BATCH_SUBJECT ? new BusError('BROKER_ERROR', 'timeout') : undefined));
    const again = await sendOutboxRows(away.bus, rows);
    expect(again.map((o) => o.status)).toEqual(['rejected', 'rejected', 'fulfilled']);
  });

  it('sends a row the store wrote as a batch as the batch it holds, with its msgId, never grouped again; refused for good, event by event', async () => {
    const events = Array.from({ length: EVENT_ROWS_PER_TRANSITION + 2 }, (_, i) => eventRow('r1', 8, i, 'step.canceled', `s${i}`));
    const transition: Transition = { state: runningRun('r1', { seq: 8 }), outbox: events, schedule: [], cancel: [] };
    const [stored] = storedWithEventBatches(transition).outbox;
    const batchRow: OutboxRecord = { ...stored, id: String(++nextId), runId: 'r1', createdAt: 0 };
    const after = eventRow('r1', 9, 0, 'step.started', 'x');
    const { bus, sent } = recordingBus();
    const outcomes = await sendOutboxRows(bus, [batchRow, after]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled']);
    expect(sent.map((s) => [s.subject, s.msgId])).toEqual([
      [LIFECYCLE_BATCH_SUBJECT, `r1:8:events:0-${EVENT_ROWS_PER_TRANSITION + 1}`],
      ['weft.event.step.started', 'r1:9:0'],
    ]);
    expect(sent[0].payload).toEqual({ events: events.map((row) => row.payload) });

    const tooLarge = recordingBus((subject, payload) =>
      subject === LIFECYCLE_BATCH_SUBJECT || (payload as LifecycleEvent).stepId === 's3' ? new BusError('PAYLOAD_TOO_LARGE', 'too large') : undefined,
    );
    const [refused] = await sendOutboxRows(tooLarge.bus, [batchRow]);
    expect(refused.status).toBe('rejected');
    expect(tooLarge.sent.map((s) => s.msgId)).toEqual(events.filter((row) => row.msgId !== 'r1:8:3').map((row) => row.msgId));
  });

  it('consumers of weft.event.> get every event, in order, once, from batches and single events alike', async () => {
    const bus = new InMemoryBus({ onError: () => undefined });
    try {
      const seen: string[] = [];
      await bus.consume('weft.event.>', { group: 'journal' }, async (d) => void seen.push(`${d.subject} ${d.data.eventId}`));
      const rows = [eventRow('r1', 1, 0, 'run.queued'), eventRow('r1', 1, 1, 'run.started'), dispatchRow('r1', 'a'), eventRow('r1', 1, 2, 'step.queued', 'a'), eventRow('r1', 2, 0, 'step.started', 'a')];
      await sendOutboxRows(bus, rows);
      const expected = rows.filter((r) => r.subject.startsWith('weft.event.')).map((r) => `${r.subject} ${r.msgId}`);
      await waitFor(async () => (seen.length >= expected.length ? true : undefined), 'every event delivered');
      expect(seen).toEqual(expected);
    } finally {
      await bus.close();
    }
  });
});
