import type { LifecycleEvent } from '@weft/contracts';
import type { AnalyticsStore } from '../ports/analytics-store.port';
import { deltaFor } from './event-delta.util';

export type AnalyticsOutcome = 'applied' | 'duplicate' | 'ignored';

/**
 * Adds one lifecycle event to the aggregates, once per event id. Throws
 * AnalyticsError INVALID_EVENT for an event that can never be counted; any other
 * error is the store's and worth retrying.
 */
export class RecordAnalyticsEventUseCase {
  constructor(private readonly store: Pick<AnalyticsStore, 'apply'>) {}

  async execute(event: LifecycleEvent): Promise<AnalyticsOutcome> {
    const delta = deltaFor(event);
    if (delta === undefined) return 'ignored';
    const { applied } = await this.store.apply(event.eventId, delta);
    return applied ? 'applied' : 'duplicate';
  }
}
