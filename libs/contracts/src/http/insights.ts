import { z } from 'zod';
import { queryEnum, queryInteger, queryTime, QueryValue } from './query';
import { problemResponse as problem, type RouteSpec } from './route';

/**
 * The analytics service's HTTP API (`/v1/insights`, `/v1/insights/hotspots|trends|steps|reviews`),
 * once: analytics validates its query strings with these, its response types are checked
 * against them at compile time, and the scheduler's OpenAPI document (GET /openapi.json)
 * is built from them. Rates are 0..1 and durations milliseconds; null when nothing counted.
 */

const Time = z.string().describe('ISO 8601 time');
const Count = z.number().int();
const Rate = z.number().nullable();
const Ms = z.number().nullable();

// ---- query strings

/** Every insights route reads the same parameters; each uses the ones its description names. */
export const InsightsQuery = z.object({
  since: queryTime('Window start: ISO 8601, or a duration back from now. Default 24h; rounded down to the hour.').optional(),
  until: queryTime('Window end (exclusive): ISO 8601, or a duration back from now. Default now; at most 400 days after since.').optional(),
  workflow: QueryValue.describe('Only this workflow.').optional(),
  limit: queryInteger(6, 'Hotspots returned (/v1/insights/hotspots): 1-100, default 10.').optional(),
  window: queryInteger(6, 'Trend points the moving average spans (/v1/insights, /v1/insights/trends): 1-168, default 3.').optional(),
  granularity: queryEnum(['hour', 'day'], 'Trend bucket (/v1/insights/trends). Default: hour for windows up to 72 h, else day.').optional(),
});

// ---- responses

/** The window an answer covers. */
export const InsightsWindow = z.object({ workflow: z.string().nullable(), since: Time, until: Time });

/** Figures of one step of one workflow over the window. */
export const StepStats = z.object({
  workflow: z.string(),
  stepId: z.string(),
  completed: Count,
  failed: Count.describe('Failed for good (after its retries).'),
  retried: Count.describe('Failed attempts that were retried.'),
  skipped: Count,
  canceled: Count,
  timedOut: Count,
  successRate: Rate.describe('completed / (completed + failed)'),
  retryRate: Rate.describe('retried / (completed + failed)'),
  avgMs: Ms.describe('Of completed executions (their last attempt).'),
  p50Ms: Ms,
  p95Ms: Ms,
  minMs: Ms,
  maxMs: Ms,
});

export const Hotspot = z.object({
  workflow: z.string(),
  stepId: z.string(),
  failures: Count,
  retries: Count,
  completed: Count,
  failureRate: Rate.describe('failures / (completed + failures)'),
  topError: z.object({ code: z.string(), count: Count }).nullable().describe('The error code seen most on the step\'s failed attempts.'),
  lastFailureAt: Time.nullable(),
});

export const TrendPoint = z.object({
  at: Time.describe('Start of the bucket.'),
  finished: Count.describe('Runs that finished in the bucket (any outcome).'),
  completed: Count,
  failed: Count,
  avgMs: Ms.describe('Mean duration of the runs that completed in the bucket.'),
  movingAvgMs: Ms.describe('Mean over this bucket and the window - 1 before it, weighted by runs.'),
});

export const DurationTrend = z.object({
  granularity: z.enum(['hour', 'day']),
  window: Count.describe('Buckets averaged by the moving average.'),
  points: z.array(TrendPoint),
  change: z.number().nullable().describe('Relative change of the moving average from its first to its last value.'),
  direction: z.enum(['slower', 'faster', 'steady', 'unknown']),
});

export const RunFigures = z.object({
  started: Count,
  finished: Count,
  completed: Count,
  partiallyCompleted: Count,
  failed: Count,
  canceled: Count,
  successRate: Rate.describe('completed / finished'),
  avgMs: Ms.describe('Of completed runs.'),
  p50Ms: Ms,
  p95Ms: Ms,
});

/**
 * Review gates of one step of one workflow, over the decisions made in the window: how long
 * people took (from the review's opening to its decision) and how often they rejected.
 */
export const ReviewStats = z.object({
  workflow: z.string(),
  stepId: z.string(),
  decided: Count.describe('Reviews decided in the window (continue, correct, retry or reject; a deadline\'s decision too).'),
  rejected: Count.describe('Of those, rejected.'),
  rejectionRate: Rate.describe('rejected / decided'),
  avgMs: Ms.describe('Time to decision: from review.requested to review.decided.'),
  p50Ms: Ms,
  p95Ms: Ms,
});

/** `GET /v1/insights`. */
export const InsightSummary = z.object({
  window: InsightsWindow,
  runs: RunFigures,
  steps: z.array(StepStats),
  hotspots: z.array(Hotspot),
  slowest: z.array(StepStats).describe('Top steps by p95 duration.'),
  flaky: z.array(StepStats).describe('Top steps by retry rate (only steps that retried).'),
  trend: DurationTrend,
  reviews: z.array(ReviewStats).describe('Reviewed steps: time to decision and rejection rate.'),
  findings: z.array(z.string()).describe('The headline findings, one sentence each.'),
});

/** `GET /v1/insights/hotspots`. */
export const InsightHotspots = z.object({ window: InsightsWindow, hotspots: z.array(Hotspot) });
/** `GET /v1/insights/trends`. */
export const InsightTrend = z.object({ window: InsightsWindow, trend: DurationTrend });
/** `GET /v1/insights/steps`. */
export const InsightSteps = z.object({ window: InsightsWindow, steps: z.array(StepStats) });
/** `GET /v1/insights/reviews`. */
export const InsightReviews = z.object({ window: InsightsWindow, reviews: z.array(ReviewStats) });

// ---- routes

const BAD_WINDOW = problem('A query parameter is malformed, or the window is empty, longer than 400 days or out of range (INVALID_QUERY)');

/** Analytics' routes (services/analytics), part of the same /v1 API: its query parsing validates with InsightsQuery. */
export const ROUTES = {
  insights: {
    method: 'get',
    path: '/v1/insights',
    summary: 'A window\'s figures: runs, steps, failure hotspots, slowest and flaky steps, the duration trend, the headline findings',
    tag: 'insights',
    query: InsightsQuery,
    responses: { 200: { description: 'The summary', schema: InsightSummary }, 400: BAD_WINDOW },
  },
  insightHotspots: {
    method: 'get',
    path: '/v1/insights/hotspots',
    summary: 'The steps that fail most (final failures, then retries), with their top error',
    tag: 'insights',
    query: InsightsQuery,
    responses: { 200: { description: 'The hotspots', schema: InsightHotspots }, 400: BAD_WINDOW },
  },
  insightTrends: {
    method: 'get',
    path: '/v1/insights/trends',
    summary: 'Run durations per hour or day, with a moving average and its direction',
    tag: 'insights',
    query: InsightsQuery,
    responses: { 200: { description: 'The trend', schema: InsightTrend }, 400: BAD_WINDOW },
  },
  insightSteps: {
    method: 'get',
    path: '/v1/insights/steps',
    summary: 'Per-step figures: outcomes, success and retry rates, durations',
    tag: 'insights',
    query: InsightsQuery,
    responses: { 200: { description: 'The steps', schema: InsightSteps }, 400: BAD_WINDOW },
  },
  insightReviews: {
    method: 'get',
    path: '/v1/insights/reviews',
    summary: 'Per reviewed step: time to decision (avg, p50, p95) and rejection rate of the reviews decided in the window',
    tag: 'insights',
    query: InsightsQuery,
    responses: { 200: { description: 'The reviewed steps', schema: InsightReviews }, 400: BAD_WINDOW },
  },
} satisfies Record<string, RouteSpec>;
