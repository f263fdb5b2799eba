import { describeSqlStore, type StoreUnderTest } from '@weft/platform/testing';
import { expectHandCountedFigures } from './analytics.figures';
import { fixedRuns, T10 } from './analytics.fixtures';
import { InsightsQueries } from '../domain/insights-queries.usecase';
import { PruneAnalyticsUseCase } from '../domain/prune-analytics.usecase';
import { RecordAnalyticsEventUseCase } from '../domain/record-event.usecase';
import { isTerminal } from '../transport/analytics-events.handler';
import type { SqlAnalyticsStore } from '../persistence/sql-analytics.store';

/** The SQL analytics store's behaviour, run on PGlite and on PostgreSQL. */
export function describeSqlAnalyticsStore(name: string, open: () => Promise<StoreUnderTest<SqlAnalyticsStore>>): void {
  describeSqlStore(`SqlAnalyticsStore: ${name}`, open, (subject, store) => {

    it('computes the hand-counted figures of a fixed set of runs, counting each event once however often it comes', async () => {
      const record = new RecordAnalyticsEventUseCase(store());
      const events = fixedRuns();
      const outcomes = [];
      for (const event of events) outcomes.push(await record.execute(event));
      // Every event again, some of them several times at once.
      for (const event of events) outcomes.push(...(await Promise.all([record.execute(event), record.execute(event), record.execute(event)])));
      const counted = events.length - outcomes.filter((o) => o === 'ignored').length / 4;
      expect(outcomes.filter((o) => o === 'applied')).toHaveLength(counted);
      expect(outcomes.filter((o) => o === 'duplicate')).toHaveLength(counted * 3);
      await expectHandCountedFigures(new InsightsQueries(store()));
    });

    it('answers an empty window with zeros and nulls', async () => {
      const summary = await new InsightsQueries(store()).summary({ since: T10, until: T10 + 3_600_000 });
      expect(summary.runs).toEqual({ started: 0, finished: 0, completed: 0, partiallyCompleted: 0, failed: 0, canceled: 0, successRate: null, avgMs: null, p50Ms: null, p95Ms: null });
      expect(summary.steps).toEqual([]);
      expect(summary.trend.points).toHaveLength(1);
    });

    it('forgets old event ids and old aggregate hours in batches', async () => {
      const record = new RecordAnalyticsEventUseCase(store());
      for (const event of fixedRuns()) await record.execute(event);
      const ids: { n: number }[] = await subject.dataSource.query('SELECT count(*)::int AS n FROM analytics_processed_events');
      const now = await store().now();
      // Everything recorded is now "older than 0 ms"; aggregates before 11:00 go, the 11:00 hour stays.
      const pruner = new PruneAnalyticsUseCase({ now: async () => now + 1000, pruneBatch: (a, b, n) => store().pruneBatch(a, b, n) }, { dedupWindowMs: 500, batchSize: 4 }, console);
      expect(await pruner.execute()).toEqual({ processed: ids[0].n, buckets: 0 });
      const hours = new PruneAnalyticsUseCase({ now: async () => T10 + 3_600_000 + 1, pruneBatch: (a, b, n) => store().pruneBatch(a, b, n) }, { aggregatesMaxAgeMs: 1, batchSize: 1 }, console);
      // The 10:00 hour: step rows etl/extract, etl/load, ml/train; error rows HTTP_503 and TIMEOUT of etl/load; run rows etl, ml.
      expect((await hours.execute()).buckets).toBe(7);
      const queries = new InsightsQueries(store());
      expect((await queries.steps({ since: T10, until: T10 + 7_200_000 })).steps.map((s) => [s.stepId, s.completed])).toEqual([
        ['extract', 2],
        ['load', 1],
        ['train', 1],
      ]);
    });

    it('refuses data PostgreSQL can never store, with an error the consumer treats as terminal', async () => {
      const failure: unknown = await store().apply('nul', { kind: 'run', namespace: 'default', workflow: 'bad \u0000 name', bucket: T10, counter: 'started' }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeDefined();
      expect(isTerminal(failure)).toBe(true);
    });

    it('rejects bad windows and calls after close', async () => {
      const queries = new InsightsQueries(store());
      await expect(queries.summary({ since: T10, until: T10 })).rejects.toMatchObject({ code: 'INVALID_QUERY' });
      await expect(queries.hotspots({ since: T10, until: T10 + 1, limit: 0 })).rejects.toMatchObject({ code: 'INVALID_QUERY' });
      await store().close();
      await expect(store().now()).rejects.toMatchObject({ code: 'STORE_CLOSED' });
    });
  });
}
