import type { Headers } from '@weft/bus';
import type { LifecycleEvent } from '@weft/contracts';
import type { JournalStore } from '../ports/journal-store.port';
import { toJournalEntry } from './journal-entry.util';

export type RecordOutcome = 'recorded' | 'duplicate';

/**
 * Journals one lifecycle event, exactly once per event id. Throws JournalError
 * INVALID_EVENT for an event that can never be recorded; any other error is the
 * store's and worth retrying.
 */
export class RecordEventUseCase {
  constructor(private readonly store: Pick<JournalStore, 'record'>) {}

  async execute(event: LifecycleEvent, headers: Headers = {}): Promise<RecordOutcome> {
    const entry = toJournalEntry(event, headers);
    const { recorded } = await this.store.record(entry);
    return recorded ? 'recorded' : 'duplicate';
  }
}
