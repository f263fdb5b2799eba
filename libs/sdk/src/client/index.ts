export {
  WeftClient,
  type EventsQuery,
  type FetchLike,
  type InsightsHotspotsQuery,
  type InsightsQuery,
  type InsightsSummaryQuery,
  type InsightsTrendsQuery,
  type RunEventsQuery,
  type RunListQuery,
  type RunRequest,
  type SpecInput,
  type WeftClientOptions,
  type WorkflowRunRequest,
  type TriggerBackfill,
  type TriggerFirePage,
  type TriggerOccurrence,
  type TriggerSummary,
  type TriggerTestResult,
} from './weft.client';
export { WeftApiError, WeftConnectionError } from './client.errors';
export { readServerSentEvents, type ServerSentEvent } from './sse.util';
export type * from './api.types';
export type * from './wait.types';
export type * from './flow.types';
