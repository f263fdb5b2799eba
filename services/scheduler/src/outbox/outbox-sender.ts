import type { Bus } from '@weft/bus';
import { LIFECYCLE_BATCH_SUBJECT, type LifecycleEvent, type LifecycleEventBatch, MAX_EVENTS_PER_BATCH, SUBJECTS } from '@weft/contracts';
import { underCarrier } from '@weft/telemetry';
import type { OutboxRecord } from '../ports/run-store.port';
import { isPermanentPublishError } from './outbox-quarantine';

/**
 * Puts committed outbox rows on the bus, one outcome per row (the committing process and the relay
 * both use it). The lifecycle events of one transition go out as one message (issue 15: one
 * publish instead of one per event): a batch on `weft.event.batch` holding them in order, placed
 * where the transition's first event was, msgId `<runId>:<seq>:events:<first>-<last>` (the
 * events' indexes, so a relay pass that claimed only some of a transition's rows publishes
 * another id, never one JetStream would drop as a duplicate). A lone event goes as itself. The
 * rows stay one per event (what the store, the relay's claims and marks count); the bus hands
 * consumers each event of a batch on its own. A batch the broker refuses for good (too large) is
 * sent again event by event, so only a poison event is quarantined.
 */
export async function sendOutboxRows(bus: Bus, rows: readonly OutboxRecord[]): Promise<PromiseSettledResult<void>[]> {
  const outcomes: PromiseSettledResult<void>[] = new Array(rows.length);
  await Promise.all(
    messagesOf(rows).map(async (indexes) => {
      const group = indexes.map((i) => rows[i]);
      let results: PromiseSettledResult<void>[] = await Promise.allSettled([group.length === 1 ? sendOutboxRow(bus, group[0]) : sendEventBatch(bus, group)]);
      if (results[0].status === 'rejected' && group.length > 1 && isPermanentPublishError(results[0].reason)) {
        results = await Promise.allSettled(group.map((row) => sendOutboxRow(bus, row)));
      }
      indexes.forEach((rowIndex, i) => (outcomes[rowIndex] = results[Math.min(i, results.length - 1)]));
    }),
  );
  return outcomes;
}

/** Row indexes per message, in the order the messages go out: a transition's events join its first event's message. */
function messagesOf(rows: readonly OutboxRecord[]): number[][] {
  const messages: number[][] = [];
  const open = new Map<string, number[]>();
  rows.forEach((row, i) => {
    const transition = row.kind === 'publish' && row.subject.startsWith(SUBJECTS.eventPrefix) ? transitionOf(row) : undefined;
    if (transition === undefined) {
      messages.push([i]);
      return;
    }
    const current = open.get(transition);
    if (current !== undefined && current.length < MAX_EVENTS_PER_BATCH) {
      current.push(i);
      return;
    }
    const next = [i];
    open.set(transition, next);
    messages.push(next);
  });
  return messages;
}

/** `<runId>:<seq>` of an event row (its eventId is `<runId>:<seq>:<n>`); undefined for anything else. */
function transitionOf(row: OutboxRecord): string | undefined {
  const end = row.msgId.lastIndexOf(':');
  return end > row.runId.length && row.msgId.startsWith(`${row.runId}:`) ? row.msgId.slice(0, end) : undefined;
}

function sendEventBatch(bus: Bus, rows: readonly OutboxRecord[]): Promise<void> {
  const [first] = rows;
  const last = rows[rows.length - 1];
  const index = (row: OutboxRecord) => row.msgId.slice(row.msgId.lastIndexOf(':') + 1);
  const batch: LifecycleEventBatch = { events: rows.map((row) => row.payload as LifecycleEvent) };
  const options = { msgId: `${transitionOf(first) ?? first.runId}:events:${index(first)}-${index(last)}`, headers: first.headers };
  // Not in MessageMap (consumers never see the batch type): published under the events' contract key.
  return underCarrier(first.headers, () => bus.publish(LIFECYCLE_BATCH_SUBJECT, batch as never, options));
}

/** Puts one committed outbox row on the bus as it is. */
function sendOutboxRow(bus: Bus, row: OutboxRecord): Promise<void> {
  const options = { msgId: row.msgId, headers: row.headers };
  // The contract was checked when the row was built; the bus re-validates on delivery.
  // The row's headers hold its run's trace context: the PRODUCER span becomes its child.
  return underCarrier(row.headers, () =>
    row.kind === 'broadcast'
      ? bus.broadcast(row.subject as 'weft.run.cancel', row.payload as never, options)
      : bus.publish(row.subject as 'weft.step.result', row.payload as never, options),
  );
}

/** The fault-test seam (SchedulerOptions.beforePublish): sees every batch before it is published. */
export type BeforePublish = (batch: readonly OutboxRecord[]) => void;

/** Rows whose publish failed for good, with the broker's error (OutboxQuarantine.quarantine). */
export type PoisonRows = (poison: readonly { row: OutboxRecord; error: unknown }[]) => Promise<void>;
