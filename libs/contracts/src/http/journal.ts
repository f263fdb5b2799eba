import { z } from 'zod';
import { LIFECYCLE_EVENT_TYPES, LifecycleEventType, RunStatus, StepError, StepStatus } from '../statuses';
import { queryInteger, queryList, queryTime, QueryValue } from './query';
import { Actor } from '../waits';
import { problemResponse as problem, type RouteSpec } from './route';

/**
 * The journal's HTTP API (`/v1/runs/{id}/history|events|checkpoints|reconstruct`,
 * `/v1/events`), once: the journal validates its query strings with these, its response
 * types are checked against them at compile time, and the scheduler's OpenAPI document
 * (GET /openapi.json) is built from them. Times are ISO 8601; absent values are null.
 */

const Time = z.string().describe('ISO 8601 time');
const NullableTime = Time.nullable();
const Data = z.record(z.string(), z.unknown());
const EventStatus = z.union([RunStatus, StepStatus]);

// ---- query strings

/** `GET /v1/runs/{id}/events`. */
export const RunEventsQuery = z.object({
  type: queryList(LIFECYCLE_EVENT_TYPES, 'event type', `Only these lifecycle event types, comma-separated or repeated: ${LIFECYCLE_EVENT_TYPES.join(', ')}.`).optional(),
  since: queryTime('At or after: ISO 8601, or a duration back from now (24h).').optional(),
  until: queryTime('Before: ISO 8601, or a duration back from now.').optional(),
  limit: queryInteger(4, '1-1000, default 100.').optional(),
  after: QueryValue.describe('nextCursor of the previous page.').optional(),
});

/** `GET /v1/events`: events across runs. */
export const EventsQuery = RunEventsQuery.extend({
  workflow: QueryValue.describe('Only runs of this workflow.').optional(),
  runId: QueryValue.describe('Only this run.').optional(),
});

// ---- responses

/** One lifecycle event as the journal keeps it. */
export const JournalEntry = z.object({
  eventId: z.string(),
  runId: z.string(),
  workflow: z.string(),
  version: z.string().describe('The workflow version the run was started with.'),
  stepId: z.string().nullable(),
  attempt: z.number().int().nullable(),
  type: LifecycleEventType,
  status: EventStatus,
  at: Time,
  durationMs: z.number().nullable(),
  error: StepError.nullable(),
  correlationId: z.string().nullable(),
  traceId: z.string().nullable().describe('W3C trace id'),
  data: Data.nullable().describe('Event details (retry delay, skip reason, run outputs...); a completed step\'s output is in its checkpoint.'),
  seq: z.number().int().describe('The scheduler\'s decision number (0 when the event id has another shape).'),
  index: z.number().int().describe('The event\'s index in its decision.'),
});

export const EventPage = z.object({
  items: z.array(JournalEntry),
  nextCursor: z.string().nullable().describe('Pass as `after` for the next page; null on the last one.'),
});

/** A completed step's output and everything the run had produced by then. */
export const Checkpoint = z.object({
  runId: z.string(),
  workflow: z.string(),
  version: z.string(),
  stepId: z.string(),
  attempt: z.number().int().nullable(),
  eventId: z.string().describe('The step.completed event this checkpoint was taken from.'),
  at: Time,
  output: z.unknown(),
  state: Data.describe('stepId -> output of every step completed up to and including this one.'),
});
export const CheckpointList = z.array(Checkpoint);

export const AttemptHistory = z.object({
  attempt: z.number().int(),
  status: z.enum(['queued', 'running', 'completed', 'failed', 'canceled']),
  queuedAt: NullableTime,
  startedAt: NullableTime,
  finishedAt: NullableTime,
  durationMs: z.number().nullable(),
  workerId: z.string().nullable(),
  queue: z.string().nullable(),
  action: z.string().nullable(),
  error: StepError.nullable(),
  timedOut: z.boolean(),
  retryDelayMs: z.number().nullable().describe('The attempt failed and the scheduler waited this long before the next one.'),
});

/** A review of a step's output, folded from review.requested / review.decided: who decided what, who escalated. */
export const ReviewHistory = z.object({
  reviewId: z.string(),
  attempt: z.number().int().nullable(),
  requestedAt: NullableTime,
  title: z.string().nullable(),
  assignees: z.array(z.string()).describe('The assignees now (after the last escalation).'),
  escalations: z
    .array(z.object({ at: Time, tier: z.number().int(), assignees: z.array(z.string()), overdue: z.boolean(), actor: Actor.nullable(), comment: z.string().nullable() }))
    .describe('Escalations and overdue marks; actor null when a timer (not a person) moved it.'),
  decision: z.string().nullable().describe('continue, correct, retry or reject; null while open.'),
  actor: Actor.nullable().describe('Who decided: the API key (id and name), local, or the system deadline key.'),
  comment: z.string().nullable(),
  decidedAt: NullableTime,
});

/** A durable sleep or a wait for a signal (or a slot, rate-limit permit, child run), from step.waiting. */
export const WaitHistory = z.object({
  attempt: z.number().int().nullable(),
  at: Time,
  wait: z.string().describe('sleep, event, child, slot, rate'),
  until: NullableTime.describe('A sleep: when it ends.'),
  event: z.string().nullable().describe('A wait for a signal: its name.'),
  key: z.string().nullable(),
});

export const StepHistory = z.object({
  stepId: z.string(),
  status: StepStatus,
  attempts: z.array(AttemptHistory),
  startedAt: NullableTime,
  finishedAt: NullableTime,
  durationMs: z.number().nullable(),
  error: StepError.nullable(),
  reason: z.string().nullable().describe('Why the step was skipped or canceled.'),
  output: z.unknown().optional().describe('From the step\'s checkpoint, when it completed.'),
  waits: z.array(WaitHistory).optional().describe('The step\'s waits, in order (absent when it never waited).'),
  reviews: z.array(ReviewHistory).optional().describe('The reviews of the step\'s output, in order, with who decided (absent when never reviewed).'),
});

/** A run as the journal folds it from its events (not the scheduler's RunSummary). */
export const JournalRunSummary = z.object({
  runId: z.string(),
  workflow: z.string(),
  version: z.string(),
  status: z.union([RunStatus, z.literal('unknown')]).describe('Folded from the run.* events; unknown when none is left (pruned).'),
  correlationId: z.string().nullable(),
  traceId: z.string().nullable(),
  queuedAt: NullableTime,
  startedAt: NullableTime,
  finishedAt: NullableTime,
  durationMs: z.number().nullable(),
  inputs: Data.nullable(),
  outputs: Data.nullable(),
  error: StepError.nullable(),
  restarts: z.number().int().describe('How many times the run was retried after finishing.'),
  events: z.number().int(),
  source: z.string().optional().describe('Who asked for the run: api, cli, trigger:<id> (also when a signal fired an event trigger), rerun:<runId>, parent:<runId> (absent on older runs).'),
  actor: Actor.optional().describe('The API key (id and name) or `local` caller that started the run, when one did.'),
});

/** The run (and its step) that started a sub-workflow run. */
export const RunParentLink = z.object({ runId: z.string(), stepId: z.string() });

/** A run below another in the sub-workflow tree (flat, depth first). */
export const RunTreeNode = z.object({
  runId: z.string(),
  parentRunId: z.string().describe('The run whose step started it (the root or another node).'),
  stepId: z.string(),
  depth: z.number().int().describe('1 for the root\'s own children.'),
  workflow: z.string().nullable().describe('Null when the journal has no entry for the child (pruned, or not journaled yet).'),
  status: z.union([RunStatus, z.literal('unknown')]),
  startedAt: NullableTime,
  finishedAt: NullableTime,
  durationMs: z.number().nullable(),
});

/** Everything that happened to a run, from the journal alone. */
export const RunReconstruction = z.object({
  run: JournalRunSummary,
  parent: RunParentLink.optional().describe('When this run is a sub-workflow run: the run and step that started it.'),
  children: z.array(RunTreeNode).optional().describe('The sub-workflow runs below it, depth first, at most 200 (absent when it started none).'),
  steps: z.array(StepHistory).describe('In the order the steps were first seen.'),
  events: z.array(JournalEntry),
  checkpoints: z.array(Checkpoint),
  notes: z.array(z.string()).describe('Gaps the reader should know about (e.g. the start was pruned).'),
});

export const TimelineItem = z.object({
  at: Time,
  offsetMs: z.number().describe('Since the run\'s first journaled event.'),
  type: LifecycleEventType,
  stepId: z.string().nullable(),
  attempt: z.number().int().nullable(),
  status: EventStatus,
  durationMs: z.number().nullable(),
  error: StepError.nullable(),
  text: z.string().describe('One readable line, e.g. "validate attempt 1 failed: HTTP_500 boom; retrying in 1s".'),
});

/** The readable story of a run (`weft history`). */
export const RunHistory = z.object({
  run: JournalRunSummary,
  parent: RunParentLink.optional(),
  children: z.array(RunTreeNode).optional(),
  steps: z.array(StepHistory),
  timeline: z.array(TimelineItem),
  notes: z.array(z.string()),
});

// ---- routes

/** `{id}`: a run id. */
const RunPath = z.object({ id: z.string().min(1).max(200) });
/** Not validated by the journal (Nest matches any non-empty segment): what a client sends. */
const CheckpointPath = z.object({ id: z.string().min(1).max(200), stepId: z.string().min(1).max(100) });
const NO_RUN = problem('The journal has no entry for this run (never seen, pruned, or of another namespace)');
const BAD_QUERY = problem('A query parameter is malformed (INVALID_QUERY; the detail names it)');

/** The journal's routes (services/journal), part of the same /v1 API: its query parsing validates with these query schemas. */
export const ROUTES = {
  runHistory: {
    method: 'get',
    path: '/v1/runs/{id}/history',
    summary: 'The story of a run from the journal: summary, steps with their attempts, one readable line per event',
    tag: 'journal',
    params: RunPath,
    responses: { 200: { description: 'The history', schema: RunHistory }, 404: NO_RUN },
  },
  runJournalEvents: {
    method: 'get',
    path: '/v1/runs/{id}/events',
    summary: 'A run\'s journaled lifecycle events, in order, filtered and paged',
    tag: 'journal',
    params: RunPath,
    query: RunEventsQuery,
    responses: { 200: { description: 'A page', schema: EventPage }, 400: BAD_QUERY, 404: NO_RUN },
  },
  runCheckpoints: {
    method: 'get',
    path: '/v1/runs/{id}/checkpoints',
    summary: 'The checkpoints of a run: each completed step\'s output and the state up to it',
    tag: 'journal',
    params: RunPath,
    responses: { 200: { description: 'The checkpoints, in event order', schema: CheckpointList }, 404: NO_RUN },
  },
  runCheckpoint: {
    method: 'get',
    path: '/v1/runs/{id}/checkpoints/{stepId}',
    summary: 'The checkpoint of one step',
    tag: 'journal',
    params: CheckpointPath,
    responses: { 200: { description: 'The checkpoint', schema: Checkpoint }, 404: problem('No such run, or the step has no checkpoint (it did not complete, or was pruned)') },
  },
  reconstructRun: {
    method: 'get',
    path: '/v1/runs/{id}/reconstruct',
    summary: 'Everything the journal knows about a run: its folded state, steps, events and checkpoints',
    tag: 'journal',
    params: RunPath,
    responses: { 200: { description: 'The reconstruction', schema: RunReconstruction }, 404: NO_RUN },
  },
  listJournalEvents: {
    method: 'get',
    path: '/v1/events',
    summary: 'Journaled lifecycle events across runs, filtered and paged',
    tag: 'journal',
    query: EventsQuery,
    responses: { 200: { description: 'A page', schema: EventPage }, 400: BAD_QUERY },
  },
} satisfies Record<string, RouteSpec>;
