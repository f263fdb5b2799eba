import type { Bus } from '@weft/bus';
import { isDataException } from '@weft/db';
import { type LifecycleConsumerOptions, LifecycleEventsHandler, type ServiceLogger, silentServiceLogger } from '@weft/platform';
import { JournalError } from '../domain/journal.errors';
import type { RecordEventUseCase } from '../domain/record-event.usecase';

export type JournalLogger = ServiceLogger;

/** Durable group: every journal replica shares it (default `journal`); concurrency defaults to JOURNAL_CONCURRENCY. */
export type JournalConsumerOptions = LifecycleConsumerOptions;

/**
 * Events journaled at once per replica. The store writes the records that arrive together
 * in one transaction, so a batch is at most this big; with the platform's 32 one batch was
 * in flight at a time and its latency capped the rate.
 */
export const JOURNAL_CONCURRENCY = 256;

/** Consumes `weft.event.>` into the journal; acked only after the entry is committed. */
export class JournalEventsHandler extends LifecycleEventsHandler {
  constructor(bus: Bus, record: RecordEventUseCase, options: JournalConsumerOptions = {}, log: JournalLogger = silentServiceLogger) {
    super(bus, { name: 'journal', lag: 'journal', past: 'journaled', gerund: 'journaling', apply: (event, headers) => record.execute(event, headers), isTerminal }, { ...options, concurrency: options.concurrency ?? JOURNAL_CONCURRENCY }, log);
  }
}

/** Never worth retrying: a malformed event, or data PostgreSQL refuses whatever the moment. */
export function isTerminal(error: unknown): boolean {
  if (error instanceof JournalError) return error.code === 'INVALID_EVENT';
  return isDataException(error);
}
