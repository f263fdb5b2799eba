import type { RunStatus, LifecycleEventType, TriggersHttp } from '@weft/contracts';
import type { WorkflowSpec } from '@weft/core';

// The request options and answer aliases of WeftClient's methods (weft.client.ts).

export interface WeftClientOptions {
  /** Where the API is: `http://127.0.0.1:8080` (the scheduler, or `weft dev`). */
  url: string;
  /** Sent as `Authorization: Bearer <key>`; `weft dev` on loopback needs none. */
  apiKey?: string;
  /** @default globalThis.fetch */
  fetch?: FetchLike;
}

/** What the client needs of `fetch` (tests and the CLI inject their own). */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** A spec as an object, or the text of a YAML/JSON file (diagnostics then point at its lines). */
export type SpecInput = { spec: WorkflowSpec | Record<string, unknown> } | { source: string };

export interface RunRequest {
  inputs?: Record<string, unknown>;
  correlationId?: string;
  /** The same key returns the same run instead of starting another. */
  idempotencyKey?: string;
}

export interface WorkflowRunRequest extends RunRequest {
  /** A stored version; default: the published one. */
  version?: number;
}

export interface RunListQuery {
  workflow?: string;
  status?: RunStatus[];
  /** ISO 8601, or a duration back from now (`24h`). */
  since?: string;
  until?: string;
  /** Runs whose id or correlation id starts with this (case-sensitive, 1-200 characters). */
  prefix?: string;
  /** Runs with exactly this correlation id. */
  correlationId?: string;
  limit?: number;
  cursor?: string;
}

/** A run's journal entries (`runs.events`); pages of 100 by default, at most 1000. */
export interface RunEventsQuery {
  /** Only these lifecycle event types. */
  type?: LifecycleEventType[];
  /** At or after: ISO 8601, or a duration back from now (`24h`). */
  since?: string;
  /** Before: ISO 8601, or a duration back from now. */
  until?: string;
  limit?: number;
  /** `nextCursor` of the previous page (sent as `after`). */
  cursor?: string;
}

/** Journal entries across the caller's runs (`events`). */
export interface EventsQuery extends RunEventsQuery {
  workflow?: string;
  runId?: string;
}

/** The window every insights answer covers. */
export interface InsightsQuery {
  workflow?: string;
  /** Window start: ISO 8601, or a duration back from now. Default `24h`; rounded down to the hour. */
  since?: string;
  /** Window end (exclusive). Default now; at most 400 days after `since`. */
  until?: string;
}

export interface InsightsSummaryQuery extends InsightsQuery {
  /** Trend points the moving average spans, 1-168 (default 3). */
  window?: number;
}

export interface InsightsHotspotsQuery extends InsightsQuery {
  /** 1-100 (default 10). */
  limit?: number;
}

export interface InsightsTrendsQuery extends InsightsSummaryQuery {
  /** Default: hour for windows up to 72 h, else day. */
  granularity?: 'hour' | 'day';
}

export type TriggerSummary = TriggersHttp.TriggerSummaryType;
export type TriggerFirePage = TriggersHttp.FirePageType;
export type TriggerOccurrence = TriggersHttp.OccurrenceResultType;
export type TriggerBackfill = TriggersHttp.BackfillResultType;
export type TriggerTestResult = TriggersHttp.TestResultType;
