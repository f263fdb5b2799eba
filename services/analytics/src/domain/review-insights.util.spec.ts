import { InsightsHttp, type LifecycleEvent } from '@weft/contracts';
import type { AnswerOf, Same } from '@weft/platform/testing';
import type { z } from 'zod';
import type { AnalyticsController } from '../transport/analytics.controller';
import { AnalyticsError } from './analytics.errors';
import { deltaFor } from './event-delta.util';
import { reviewFinding, reviewStats } from './review-insights.util';

const event = (fields: Pick<LifecycleEvent, 'type' | 'status'> & Partial<LifecycleEvent>): LifecycleEvent => ({
  eventId: 'r:1:0',
  runId: 'r',
  workflow: 'invoice',
  version: '1',
  at: '2026-03-01T10:42:13.500Z',
  stepId: 'extract',
  ...fields,
});
const AT = Date.parse('2026-03-01T10:42:13.500Z');

// The route's answer has the type of its API schema (does not compile otherwise).
const sameAsSchema: Same<AnswerOf<AnalyticsController, 'reviews'>, z.infer<typeof InsightsHttp.InsightReviews>> = true;

describe('review insights', () => {
  it('a review opens with its first review.requested; escalations and overdue marks open nothing', () => {
    expect(deltaFor(event({ type: 'review.requested', status: 'waiting', namespace: 'acme', data: { reviewId: 'rv-1', title: 't', assignees: [] } }))).toEqual({
      kind: 'review-opened',
      namespace: 'acme',
      reviewId: 'rv-1',
      at: AT,
    });
    expect(deltaFor(event({ type: 'review.requested', status: 'waiting', data: { reviewId: 'rv-1', tier: 1, escalated: true, assignees: [] } }))).toBeUndefined();
    expect(deltaFor(event({ type: 'review.requested', status: 'waiting', data: { reviewId: 'rv-1', tier: 1, escalated: false, overdue: true, assignees: [] } }))).toBeUndefined();
    expect(() => deltaFor(event({ type: 'review.requested', status: 'waiting', data: {} }))).toThrow(AnalyticsError);
  });

  it('a decision is counted with its step and decision; an escalation is not a decision', () => {
    expect(deltaFor(event({ type: 'review.decided', status: 'waiting', data: { reviewId: 'rv-1', decision: 'reject', actor: 'local' } }))).toEqual({
      kind: 'review-decided',
      namespace: 'default',
      workflow: 'invoice',
      stepId: 'extract',
      reviewId: 'rv-1',
      decision: 'reject',
      at: AT,
    });
    expect(deltaFor(event({ type: 'review.decided', status: 'waiting', data: { reviewId: 'rv-1', decision: 'escalate' } }))).toBeUndefined();
    expect(() => deltaFor(event({ type: 'review.decided', status: 'waiting', data: { reviewId: 'rv-1' } }))).toThrow(AnalyticsError);
  });

  it('turns decision totals into rates and times, and one finding', () => {
    const stats = reviewStats([
      { workflow: 'invoice', stepId: 'extract', decided: 4, rejected: 1, timed: 3, sumMs: 9_000, p50Ms: 2_000, p95Ms: 5_000 },
      { workflow: 'approve', stepId: 'gate', decided: 2, rejected: 0, timed: 0, sumMs: 0, p50Ms: null, p95Ms: null },
    ]);
    expect(sameAsSchema).toBe(true);
    expect(stats).toEqual([
      { workflow: 'approve', stepId: 'gate', decided: 2, rejected: 0, rejectionRate: 0, avgMs: null, p50Ms: null, p95Ms: null },
      { workflow: 'invoice', stepId: 'extract', decided: 4, rejected: 1, rejectionRate: 0.25, avgMs: 3_000, p50Ms: 2_000, p95Ms: 5_000 },
    ]);
    expect(InsightsHttp.InsightReviews.safeParse({ window: { workflow: null, since: '2026-03-01T00:00:00.000Z', until: '2026-03-02T00:00:00.000Z' }, reviews: stats }).error).toBeUndefined();
    expect(reviewFinding(stats)).toBe('6 review(s) decided, 16.7% rejected; slowest to decide: invoice/extract, p95 5.00s');
    expect(reviewFinding([])).toBeUndefined();
  });
});
