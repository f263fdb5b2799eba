import { eventSubject } from '@weft/contracts';
import { describeProjectionOnNats } from '@weft/platform/testing';
import { AnalyticsModule } from './analytics.module';
import { expectHandCountedFigures } from './testing/analytics.figures';
import { fixedRuns, waitFor } from './testing/analytics.fixtures';
import type { AggregateDelta } from './domain/analytics.types';
import { deltaFor } from './domain/event-delta.util';
import { InsightsQueries } from './domain/insights-queries.usecase';
import type { AnalyticsStore } from './ports/analytics-store.port';
import { openAnalyticsStore } from './persistence/sql-analytics.store';

describeProjectionOnNats('analytics', openAnalyticsStore, (harness) => {
  it('turns a fixed set of runs into the hand-counted figures despite duplicates and redeliveries', async () => {
    const { bus, store } = harness;
    const events = fixedRuns();
    // Every fifth counted event commits and then "crashes" before its ack: JetStream must redeliver it.
    const crashAfterCommit = new Set(events.filter((e) => deltaFor(e) !== undefined).filter((_, i) => i % 5 === 0).map((e) => e.eventId));
    const deliveries = new Map<string, number>();
    const crashing: AnalyticsStore = {
      apply: async (eventId: string, delta: AggregateDelta) => {
        const seen = (deliveries.get(eventId) ?? 0) + 1;
        deliveries.set(eventId, seen);
        const result = await store.apply(eventId, delta);
        if (seen === 1 && crashAfterCommit.has(eventId)) throw new Error(`simulated crash after committing ${eventId}`);
        return result;
      },
      stepTotals: (w) => store.stepTotals(w),
      errorCodes: (w) => store.errorCodes(w),
      runBuckets: (w) => store.runBuckets(w),
      runTotals: (w) => store.runTotals(w),
      reviewTotals: (w) => store.reviewTotals(w),
      pruneBatch: (a, b, n) => store.pruneBatch(a, b, n),
      now: () => store.now(),
      close: () => store.close(),
    };
    const analytics = AnalyticsModule.forRoot({ bus, store: crashing, http: false, consumer: { concurrency: 8 } });
    await harness.start(analytics);
    expect(await AnalyticsModule.readiness(analytics).check()).toMatchObject({ ok: true });

    for (const event of events) await bus.publish(eventSubject(event.type), event, { msgId: event.eventId });
    for (const event of events) await bus.publish(eventSubject(event.type), event, { msgId: `${event.eventId}:replayed` });

    await waitFor(
      async () => {
        const info = await harness.eventConsumer('analytics__weft_event_ALL');
        // Each crashed event: first delivery, its redelivery, and the replayed copy.
        return info.num_pending === 0 && info.num_ack_pending === 0 && [...crashAfterCommit].every((id) => (deliveries.get(id) ?? 0) >= 3);
      },
      'every delivery settled and every crashed event redelivered',
      30_000,
    );
    expect(crashAfterCommit.size).toBeGreaterThanOrEqual(5);
    await expectHandCountedFigures(new InsightsQueries(store));
    expect(await bus.deadLetters()).toEqual([]);
  }, 60_000);
});
