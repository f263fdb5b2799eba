import type { AggregateDelta, InsightWindow, StepCounts } from '../domain/analytics.types';
import type { DurationHistogram } from '../domain/duration-sketch.util';

/** Sums of one step's hourly rows over a window. */
export interface StepTotalsRow extends StepCounts {
  workflow: string;
  stepId: string;
  durationCount: number;
  durationSumMs: number;
  durationMinMs: number | null;
  durationMaxMs: number | null;
  histogram: DurationHistogram;
  /** Epoch ms. */
  lastFailedAt: number | null;
}

export interface ErrorCodeRow {
  workflow: string;
  stepId: string;
  code: string;
  /** Final failures with this code. */
  failures: number;
  /** Retried attempts with this code. */
  retries: number;
}

/** Run counters of one hour, summed over the window's workflows. */
export interface RunBucketRow {
  /** Start of the hour, epoch ms. */
  bucket: number;
  started: number;
  restarted: number;
  completed: number;
  partiallyCompleted: number;
  failed: number;
  canceled: number;
  durationCount: number;
  durationSumMs: number;
}

export interface RunTotalsRow extends Omit<RunBucketRow, 'bucket'> {
  durationMinMs: number | null;
  durationMaxMs: number | null;
  histogram: DurationHistogram;
}

/** The decisions of one reviewed step in a window; times to decision in ms, of the decisions whose opening was seen. */
export interface ReviewTotalsRow {
  workflow: string;
  stepId: string;
  decided: number;
  rejected: number;
  /** Decisions with a known opening (their time to decision is counted). */
  timed: number;
  sumMs: number;
  p50Ms: number | null;
  p95Ms: number | null;
}

/**
 * Incremental aggregates: each event is applied once (by event id, in the same
 * transaction as the counters it bumps); queries read aggregate rows in a window, never events.
 */
export interface AnalyticsStore {
  /** Applies the delta unless the event id was applied before; `applied: false` for a duplicate. */
  apply(eventId: string, delta: AggregateDelta): Promise<{ applied: boolean }>;
  stepTotals(window: InsightWindow): Promise<StepTotalsRow[]>;
  errorCodes(window: InsightWindow): Promise<ErrorCodeRow[]>;
  runBuckets(window: InsightWindow): Promise<RunBucketRow[]>;
  runTotals(window: InsightWindow): Promise<RunTotalsRow>;
  /** Reviewed steps' decisions in the window (decided at or after the hour holding `since`, before `until`). */
  reviewTotals(window: InsightWindow): Promise<ReviewTotalsRow[]>;
  /**
   * Deletes up to `batchSize` processed-event ids recorded before `processedBefore`, and
   * up to `batchSize` aggregate rows per table for hours before `bucketsBefore` (when given).
   * `more`: some table filled its batch, so another call may find more.
   */
  pruneBatch(processedBefore: number, bucketsBefore: number | undefined, batchSize: number): Promise<{ processed: number; buckets: number; more: boolean }>;
  /** Database time, epoch ms. */
  now(): Promise<number>;
  close(): Promise<void>;
}
