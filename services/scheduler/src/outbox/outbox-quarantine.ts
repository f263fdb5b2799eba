import { BusError } from '@weft/bus';
import { dispatchSubject, PAYLOAD_ERROR_CODES, StepDispatch } from '@weft/contracts';
import { recordOutboxQuarantined } from '@weft/telemetry';
import type { OutboxRecord, RunStore } from '../ports/run-store.port';
import type { SchedulerLogger } from '../ports/scheduler-logger.port';
import type { ApplyEventUseCase } from '../usecases/apply-event.usecase';

/** A publish that can never succeed: sending the row again would block the relay for ever. */
export function isPermanentPublishError(error: unknown): boolean {
  return error instanceof BusError && (error.code === 'PAYLOAD_TOO_LARGE' || error.code === 'UNSERIALISABLE' || error.code === 'INVALID_SUBJECT');
}

const DISPATCH_PREFIX = dispatchSubject('');

/**
 * Poison outbox rows (issue 12): a row the broker refuses for good is quarantined (the store
 * keeps it with the reason; the relay never hands it out again), logged as an error and
 * counted (`weft_outbox_quarantined_total`). A quarantined dispatch fails its attempt through
 * `decide` with DISPATCH_FAILED (never retried), so the run moves on under its onFailure
 * policy instead of waiting for a dispatch that cannot be sent. Events and cancel broadcasts
 * change no run: the run's state is already committed; the journal misses that one event.
 */
export class OutboxQuarantine {
  constructor(
    private readonly store: Pick<RunStore, 'quarantineOutbox'>,
    private readonly transitions: Pick<ApplyEventUseCase, 'apply'>,
    private readonly log: SchedulerLogger,
  ) {}

  async quarantine(poison: readonly { row: OutboxRecord; error: unknown }[]): Promise<void> {
    if (poison.length === 0) return;
    const reasons = poison.map(({ row, error }) => ({ row, reason: reasonOf(error) }));
    await this.store.quarantineOutbox(reasons.map(({ row, reason }) => ({ id: row.id, reason })));
    for (const { row, reason } of reasons) {
      const kind = row.kind === 'broadcast' ? 'broadcast' : row.subject.startsWith(DISPATCH_PREFIX) ? 'dispatch' : 'event';
      recordOutboxQuarantined(kind);
      this.log.error('outbox row quarantined: the broker refuses it for good', { outboxId: row.id, runId: row.runId, subject: row.subject, msgId: row.msgId, reason });
      if (kind === 'dispatch') await this.failDispatch(row, reason);
    }
  }

  private async failDispatch(row: OutboxRecord, reason: string): Promise<void> {
    const parsed = StepDispatch.safeParse(row.payload);
    if (!parsed.success) return;
    const { stepId, attempt, token } = parsed.data;
    const message = `the broker refused the dispatch of step ${stepId} (attempt ${attempt}) for good: ${reason}`;
    try {
      // A stale attempt (already failed, retried, canceled) is a no-op in the core.
      await this.transitions.apply(row.runId, (at) => ({ type: 'step.failed', at, stepId, attempt, token, error: { code: PAYLOAD_ERROR_CODES.dispatchFailed, message, retryable: false } }));
    } catch (error) {
      // The row stays quarantined; the step's lease then re-sends a fresh row, which fails here again.
      this.log.warn('could not fail the step of a quarantined dispatch; its lease will bring it back', { runId: row.runId, stepId, error: String(error) });
    }
  }
}

function reasonOf(error: unknown): string {
  const code = error instanceof BusError ? `${error.code}: ` : '';
  return `${code}${error instanceof Error ? error.message : String(error)}`.slice(0, 2_000);
}
