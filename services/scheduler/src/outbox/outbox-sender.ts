import type { Bus } from '@weft/bus';
import { isLifecycleBatchSubject } from '@weft/contracts';
import { underCarrier } from '@weft/telemetry';
import type { OutboxMessage, OutboxRecord } from '../ports/run-store.port';
import { asPublished, batchMessage, eventGroups, eventMessagesOf } from './event-batches';
import { isPermanentPublishError } from './outbox-quarantine';

/**
 * Puts committed outbox rows on the bus, one outcome per row (the committing process and the relay
 * both use it). The lifecycle events of one transition go out as one message (issue 15: one
 * publish instead of one per event): a batch on `weft.event.batch` holding them in order, placed
 * where the transition's first event was (event-batches.ts: eventGroups, batchMessage; the msgId
 * names the events' indexes, so a relay pass that claimed only some of a transition's rows publishes
 * another id, never one JetStream would drop as a duplicate). A lone event goes as itself, and so
 * does a row the store already wrote as a batch (a transition with many events,
 * storedWithEventBatches). The bus hands consumers each event of a batch on its own. A batch the
 * broker refuses for good (too large) is sent again event by event, so only a poison event fails:
 * a batch row then fails (and is quarantined) with it, its other events sent.
 */
export async function sendOutboxRows(bus: Bus, rows: readonly OutboxRecord[]): Promise<PromiseSettledResult<void>[]> {
  const outcomes: PromiseSettledResult<void>[] = new Array(rows.length);
  await Promise.all(
    eventGroups(rows, (i) => rows[i].runId).map(async (indexes) => {
      const group = indexes.map((i) => rows[i]);
      const message: OutboxMessage = group.length === 1 ? asPublished(group[0]) : batchMessage(group, group[0].runId);
      let results: PromiseSettledResult<void>[] = [await settled(sendOutboxRow(bus, message))];
      if (results[0].status === 'rejected' && isPermanentPublishError(results[0].reason)) {
        if (group.length > 1) results = await Promise.allSettled(group.map((row) => sendOutboxRow(bus, row)));
        else if (isLifecycleBatchSubject(message.subject)) results = [await sentAlone(bus, eventMessagesOf(message))];
      }
      indexes.forEach((rowIndex, i) => (outcomes[rowIndex] = results[Math.min(i, results.length - 1)]));
    }),
  );
  return outcomes;
}

/** One promise's outcome, as Promise.allSettled gives it (without its array and per-element closures). */
function settled(promise: Promise<void>): Promise<PromiseSettledResult<void>> {
  return promise.then(
    (value): PromiseSettledResult<void> => ({ status: 'fulfilled', value }),
    (reason: unknown): PromiseSettledResult<void> => ({ status: 'rejected', reason }),
  );
}

/** Sends each message on its own: fulfilled when every one was sent, else the first permanent refusal (or the first failure). */
async function sentAlone(bus: Bus, messages: readonly OutboxMessage[]): Promise<PromiseSettledResult<void>> {
  const results = await Promise.allSettled(messages.map((message) => sendOutboxRow(bus, message)));
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  return failed.find((r) => isPermanentPublishError(r.reason)) ?? failed[0] ?? { status: 'fulfilled', value: undefined };
}

/** Puts one outbox message on the bus as it is. */
function sendOutboxRow(bus: Bus, row: OutboxMessage): Promise<void> {
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
