import type { ReviewTotalsRow } from '../ports/analytics-store.port';
import type { ReviewStats } from './analytics.types';
import { formatMs } from '@weft/core';

/** The figures of each reviewed step, by workflow then step. */
export function reviewStats(rows: readonly ReviewTotalsRow[]): ReviewStats[] {
  return rows
    .map((r) => ({
      workflow: r.workflow,
      stepId: r.stepId,
      decided: r.decided,
      rejected: r.rejected,
      rejectionRate: r.decided > 0 ? r.rejected / r.decided : null,
      avgMs: r.timed > 0 ? r.sumMs / r.timed : null,
      p50Ms: r.p50Ms,
      p95Ms: r.p95Ms,
    }))
    .sort((a, b) => compare(a.workflow, b.workflow) || compare(a.stepId, b.stepId));
}

/** One sentence on reviews when any was decided: how many, how often rejected, the slowest to decide. */
export function reviewFinding(reviews: readonly ReviewStats[]): string | undefined {
  const decided = reviews.reduce((n, r) => n + r.decided, 0);
  if (decided === 0) return undefined;
  const rejected = reviews.reduce((n, r) => n + r.rejected, 0);
  const slowest = reviews.filter((r) => r.p95Ms !== null).sort((a, b) => (b.p95Ms ?? 0) - (a.p95Ms ?? 0))[0];
  const slow = slowest ? `; slowest to decide: ${slowest.workflow}/${slowest.stepId}, p95 ${formatMs(slowest.p95Ms ?? 0)}` : '';
  return `${decided} review(s) decided, ${((rejected / decided) * 100).toFixed(1)}% rejected${slow}`;
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
