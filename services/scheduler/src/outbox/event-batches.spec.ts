import { LIFECYCLE_BATCH_SUBJECT, type LifecycleEvent, MAX_EVENTS_PER_BATCH } from '@weft/contracts';
import type { OutboxMessage, Transition } from '../ports/run-store.port';
import { runningRun } from '../testing/run-store.fixtures';
import { EVENT_ROWS_PER_TRANSITION, asPublished, eventsOfBatch, eventTypesOf, storedWithEventBatches } from './event-batches';

const state = runningRun('r1', { seq: 4 });

function event(n: number, extra: Partial<LifecycleEvent> = {}, seq = 4): OutboxMessage {
  const eventId = `r1:${seq}:${n}`;
  const payload: LifecycleEvent = { eventId, type: 'step.canceled', runId: 'r1', workflow: 'wf', version: '1', status: 'canceled', at: '2026-12-06T00:00:00.000Z', stepId: `s${n}`, attempt: 0, data: { reason: 'enough' }, ...extra };
  return { kind: 'publish', subject: `weft.event.${payload.type}`, msgId: eventId, payload, headers: { traceparent: 'tp' } };
}

const transition = (outbox: OutboxMessage[]): Transition => ({ state, outbox, schedule: [], cancel: [] });
const json = (value: unknown) => JSON.stringify(value);

describe('storedWithEventBatches', () => {
  it('leaves a transition with up to EVENT_ROWS_PER_TRANSITION events as it is', () => {
    const few = transition(Array.from({ length: EVENT_ROWS_PER_TRANSITION }, (_, n) => event(n)));
    expect(storedWithEventBatches(few)).toBe(few);
  });

  it('stores more as batch rows, compact, that give back every event equal (keys in order), whatever differs between them', () => {
    const events = Array.from({ length: MAX_EVENTS_PER_BATCH + 40 }, (_, n) =>
      n === 3
        ? event(n, { type: 'run.canceled', status: 'canceled', stepId: undefined, durationMs: 12, error: { code: 'CANCELED', message: 'enough', retryable: false } })
        : n === 7
          ? event(n, { data: { reason: 'other' } })
          : event(n),
    );
    // run.canceled has no stepId: drop the key, as toTransition does.
    delete (events[3].payload as Record<string, unknown>).stepId;
    const dispatch: OutboxMessage = { kind: 'publish', subject: 'weft.step.dispatch.default', msgId: 'tok', payload: { token: 'tok' } };
    const stored = storedWithEventBatches(transition([events[0], dispatch, ...events.slice(1)]));
    expect(stored.outbox.map((m) => [m.subject, m.msgId])).toEqual([
      [LIFECYCLE_BATCH_SUBJECT, `r1:4:events:0-${MAX_EVENTS_PER_BATCH - 1}`],
      ['weft.step.dispatch.default', 'tok'],
      [LIFECYCLE_BATCH_SUBJECT, `r1:4:events:${MAX_EVENTS_PER_BATCH}-${MAX_EVENTS_PER_BATCH + 39}`],
    ]);
    const [first, , second] = stored.outbox;
    expect(json([...eventsOfBatch(first.payload), ...eventsOfBatch(second.payload)])).toBe(json(events.map((m) => m.payload)));
    // Published as the contract's batch, the events' types readable without rebuilding them.
    expect(json(asPublished(first).payload)).toBe(json({ events: events.slice(0, MAX_EVENTS_PER_BATCH).map((m) => m.payload) }));
    expect(new Set(eventTypesOf(first.payload))).toEqual(new Set(['step.canceled', 'run.canceled']));
    expect(new Set(eventTypesOf(second.payload))).toEqual(new Set(["step.canceled"]));
    expect(first.headers).toEqual({ traceparent: 'tp' });
    // Compact: the fields all events share are stored once.
    expect(json(first.payload).length).toBeLessThan(json(events.slice(0, MAX_EVENTS_PER_BATCH).map((m) => m.payload)).length / 4);
  });

  it('keeps eventIds that do not run on, and a lone leftover event as itself', () => {
    const events = Array.from({ length: MAX_EVENTS_PER_BATCH + 1 }, (_, n) => event(n * 2));
    const stored = storedWithEventBatches(transition(events));
    expect(json(stored.outbox.flatMap((m) => (m.subject === LIFECYCLE_BATCH_SUBJECT ? eventsOfBatch(m.payload) : [m.payload])))).toBe(json(events.map((m) => m.payload)));
    expect(stored.outbox).toHaveLength(2);
    expect(stored.outbox[1]).toBe(events[MAX_EVENTS_PER_BATCH]);
  });
});
