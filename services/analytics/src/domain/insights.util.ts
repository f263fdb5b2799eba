import { formatMs } from '@weft/core';
import type { ErrorCodeRow, ReviewTotalsRow, RunBucketRow, RunTotalsRow, StepTotalsRow } from '../ports/analytics-store.port';
import type { DurationTrend, Hotspot, InsightSummary, InsightWindow, RunFigures, StepStats, TrendPoint } from './analytics.types';
import { quantile } from './duration-sketch.util';
import { HOUR_MS } from './event-delta.util';
import { reviewFinding, reviewStats } from './review-insights.util';

export const DAY_MS = 24 * HOUR_MS;
/** Windows up to this long get hourly trend points; longer ones daily. */
export const HOURLY_TREND_LIMIT_MS = 72 * HOUR_MS;
export const DEFAULT_MOVING_WINDOW = 3;
/** A moving average that moved less than this (relative) is "steady". */
export const STEADY_BAND = 0.1;
export const SUMMARY_TOP = 5;

const ratio = (part: number, whole: number): number | null => (whole > 0 ? part / whole : null);

export function stepStats(row: StepTotalsRow): StepStats {
  const finished = row.completed + row.failed;
  const bounds = { min: row.durationMinMs, max: row.durationMaxMs };
  return {
    workflow: row.workflow,
    stepId: row.stepId,
    completed: row.completed,
    failed: row.failed,
    retried: row.retried,
    skipped: row.skipped,
    canceled: row.canceled,
    timedOut: row.timedOut,
    successRate: ratio(row.completed, finished),
    retryRate: ratio(row.retried, finished),
    avgMs: ratio(row.durationSumMs, row.durationCount),
    p50Ms: quantile(row.histogram, 0.5, bounds),
    p95Ms: quantile(row.histogram, 0.95, bounds),
    minMs: row.durationMinMs,
    maxMs: row.durationMaxMs,
  };
}

/** Steps that failed or retried, most final failures first, then most retries. */
export function hotspots(rows: readonly StepTotalsRow[], errors: readonly ErrorCodeRow[], limit: number): Hotspot[] {
  const topErrors = new Map<string, { code: string; count: number }>();
  for (const error of errors) {
    const key = `${error.workflow}\u0000${error.stepId}`;
    const count = error.failures + error.retries;
    const best = topErrors.get(key);
    if (count > 0 && (!best || count > best.count || (count === best.count && error.code < best.code))) topErrors.set(key, { code: error.code, count });
  }
  return rows
    .filter((row) => row.failed + row.retried > 0)
    .sort((a, b) => b.failed - a.failed || b.retried - a.retried || compare(a.workflow, b.workflow) || compare(a.stepId, b.stepId))
    .slice(0, limit)
    .map((row) => ({
      workflow: row.workflow,
      stepId: row.stepId,
      failures: row.failed,
      retries: row.retried,
      completed: row.completed,
      failureRate: ratio(row.failed, row.completed + row.failed),
      topError: topErrors.get(`${row.workflow}\u0000${row.stepId}`) ?? null,
      lastFailureAt: row.lastFailedAt === null ? null : new Date(row.lastFailedAt).toISOString(),
    }));
}

export function granularityFor(window: InsightWindow): 'hour' | 'day' {
  return window.until - window.since <= HOURLY_TREND_LIMIT_MS ? 'hour' : 'day';
}

/**
 * Run durations over the window, one point per hour (or day), with gaps filled and
 * a moving average over `movingWindow` points weighted by the runs in each.
 */
export function durationTrend(rows: readonly RunBucketRow[], window: InsightWindow, options: { granularity?: 'hour' | 'day'; movingWindow?: number } = {}): DurationTrend {
  const granularity = options.granularity ?? granularityFor(window);
  const movingWindow = options.movingWindow ?? DEFAULT_MOVING_WINDOW;
  const size = granularity === 'hour' ? HOUR_MS : DAY_MS;
  const start = Math.floor(window.since / size) * size;
  const sums = new Map<number, { finished: number; completed: number; failed: number; count: number; sum: number }>();
  for (let at = start; at < window.until; at += size) sums.set(at, { finished: 0, completed: 0, failed: 0, count: 0, sum: 0 });
  for (const row of rows) {
    const slot = sums.get(Math.floor(row.bucket / size) * size);
    if (!slot) continue;
    slot.finished += row.completed + row.partiallyCompleted + row.failed + row.canceled;
    slot.completed += row.completed;
    slot.failed += row.failed;
    slot.count += row.durationCount;
    slot.sum += row.durationSumMs;
  }
  const slots = [...sums.entries()];
  const points: TrendPoint[] = slots.map(([at, slot], i) => {
    const recent = slots.slice(Math.max(0, i - movingWindow + 1), i + 1).map(([, s]) => s);
    const count = recent.reduce((n, s) => n + s.count, 0);
    const sum = recent.reduce((n, s) => n + s.sum, 0);
    return {
      at: new Date(at).toISOString(),
      finished: slot.finished,
      completed: slot.completed,
      failed: slot.failed,
      avgMs: ratio(slot.sum, slot.count),
      movingAvgMs: ratio(sum, count),
    };
  });
  const moving = points.map((p) => p.movingAvgMs).filter((v): v is number => v !== null);
  const first = moving[0];
  const last = moving[moving.length - 1];
  const change = first !== undefined && last !== undefined && moving.length > 1 && first > 0 ? (last - first) / first : null;
  const direction = change === null ? 'unknown' : Math.abs(change) < STEADY_BAND ? 'steady' : change > 0 ? 'slower' : 'faster';
  return { granularity, window: movingWindow, points, change, direction };
}

export function runFigures(totals: RunTotalsRow): RunFigures {
  const finished = totals.completed + totals.partiallyCompleted + totals.failed + totals.canceled;
  const bounds = { min: totals.durationMinMs, max: totals.durationMaxMs };
  return {
    started: totals.started,
    finished,
    completed: totals.completed,
    partiallyCompleted: totals.partiallyCompleted,
    failed: totals.failed,
    canceled: totals.canceled,
    successRate: ratio(totals.completed, finished),
    avgMs: ratio(totals.durationSumMs, totals.durationCount),
    p50Ms: quantile(totals.histogram, 0.5, bounds),
    p95Ms: quantile(totals.histogram, 0.95, bounds),
  };
}

export interface SummaryInput {
  window: InsightWindow;
  steps: readonly StepTotalsRow[];
  errors: readonly ErrorCodeRow[];
  runBuckets: readonly RunBucketRow[];
  runTotals: RunTotalsRow;
  /** Reviewed steps' decisions. @default none */
  reviews?: readonly ReviewTotalsRow[];
  movingWindow?: number;
}

/** Every figure of the window, and the few sentences worth reading first. */
export function summarize(input: SummaryInput): InsightSummary {
  const steps = input.steps.map(stepStats).sort((a, b) => compare(a.workflow, b.workflow) || compare(a.stepId, b.stepId));
  const summary: InsightSummary = {
    window: { workflow: input.window.workflow ?? null, since: new Date(input.window.since).toISOString(), until: new Date(input.window.until).toISOString() },
    runs: runFigures(input.runTotals),
    steps,
    hotspots: hotspots(input.steps, input.errors, SUMMARY_TOP),
    slowest: steps
      .filter((s) => s.p95Ms !== null)
      .sort((a, b) => (b.p95Ms ?? 0) - (a.p95Ms ?? 0) || compare(a.workflow, b.workflow) || compare(a.stepId, b.stepId))
      .slice(0, SUMMARY_TOP),
    flaky: steps
      .filter((s) => s.retried > 0 && s.retryRate !== null)
      .sort((a, b) => (b.retryRate ?? 0) - (a.retryRate ?? 0) || b.retried - a.retried || compare(a.workflow, b.workflow) || compare(a.stepId, b.stepId))
      .slice(0, SUMMARY_TOP),
    trend: durationTrend(input.runBuckets, input.window, input.movingWindow === undefined ? {} : { movingWindow: input.movingWindow }),
    reviews: reviewStats(input.reviews ?? []),
    findings: [],
  };
  summary.findings = findings(summary);
  return summary;
}

/** The headline sentences, most important first. */
export function findings(summary: Omit<InsightSummary, 'findings'>): string[] {
  const out: string[] = [];
  const { runs } = summary;
  const reviewed = reviewFinding(summary.reviews);
  if (runs.finished === 0 && summary.steps.length === 0) return [`nothing finished between ${summary.window.since} and ${summary.window.until}`, ...(reviewed !== undefined ? [reviewed] : [])];
  if (runs.finished > 0) {
    const parts = [`${runs.completed} completed`, `${runs.failed} failed`];
    if (runs.partiallyCompleted > 0) parts.push(`${runs.partiallyCompleted} partially completed`);
    if (runs.canceled > 0) parts.push(`${runs.canceled} canceled`);
    out.push(`${runs.finished} run(s) finished: ${parts.join(', ')} (success rate ${percent(runs.successRate)})`);
  }
  const top = summary.hotspots[0];
  if (top && top.failures > 0) {
    const mostly = top.topError ? `, mostly ${top.topError.code}` : '';
    out.push(`top failure hotspot: ${top.workflow}/${top.stepId} failed ${top.failures} time(s) (${percent(top.failureRate)} of its finished executions${mostly})`);
  } else if (top) {
    out.push(`no step failed for good; ${top.workflow}/${top.stepId} retried ${top.retries} time(s)`);
  }
  const flaky = summary.flaky[0];
  if (flaky && (flaky.retryRate ?? 0) >= 0.2) out.push(`${flaky.workflow}/${flaky.stepId} needs retries: ${(flaky.retryRate ?? 0).toFixed(2)} per finished execution`);
  const slow = summary.slowest[0];
  if (slow) out.push(`slowest step: ${slow.workflow}/${slow.stepId}, p95 ${formatMs(slow.p95Ms ?? 0)} (p50 ${formatMs(slow.p50Ms ?? 0)})`);
  const { trend } = summary;
  const moving = trend.points.map((p) => p.movingAvgMs).filter((v): v is number => v !== null);
  const first = moving[0];
  const last = moving[moving.length - 1];
  if ((trend.direction === 'slower' || trend.direction === 'faster') && first !== undefined && last !== undefined && trend.change !== null) {
    const sign = trend.change > 0 ? '+' : '';
    out.push(`runs got ${trend.direction}: moving average ${formatMs(first)} → ${formatMs(last)} (${sign}${Math.round(trend.change * 100)}%)`);
  } else if (trend.direction === 'steady' && last !== undefined) {
    out.push(`run durations are steady (moving average ${formatMs(last)})`);
  }
  if (reviewed !== undefined) out.push(reviewed);
  return out;
}

export function percent(rate: number | null): string {
  return rate === null ? 'n/a' : `${(rate * 100).toFixed(1)}%`;
}

/** People's durations (850ms, 1.25s, 3m05s): @weft/core's, re-exported for the views that read this module. */
export { formatMs };

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
