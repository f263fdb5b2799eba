import type { Bus } from '@weft/bus';
import { underCarrier } from '@weft/telemetry';
import type { OutboxRecord } from '../ports/run-store.port';

/** Puts one committed outbox row on the bus: the one publish both the committing process and the relay use. */
export function sendOutboxRow(bus: Bus, row: OutboxRecord): Promise<void> {
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
