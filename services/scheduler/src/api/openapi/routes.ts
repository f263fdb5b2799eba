import { InsightsHttp as I, JournalHttp as J } from '@weft/contracts';
import { z } from 'zod';
import * as S from '../api.schemas';

export type HttpMethod = 'get' | 'post' | 'patch' | 'delete';

export interface RouteResponse {
  description: string;
  /** The JSON body (absent: no body). */
  schema?: z.ZodType;
  /** `text/event-stream` of this event schema instead of JSON. */
  events?: z.ZodType;
  /** `application/problem+json`. */
  problem?: boolean;
  headers?: string[];
}

export interface RouteSpec {
  method: HttpMethod;
  /** OpenAPI form: `/v1/runs/{id}`. */
  path: string;
  summary: string;
  tag: string;
  body?: z.ZodType;
  query?: z.ZodObject;
  params?: z.ZodObject;
  /** Request headers the route reads. */
  headers?: { name: string; description: string }[];
  responses: Record<number, RouteResponse>;
  /** false: no API key needed. @default true */
  auth?: boolean;
}

const problem = (description: string): RouteResponse => ({ description, problem: true });
const IDEMPOTENCY = { name: 'Idempotency-Key', description: 'The same key returns the same run (per namespace) instead of starting another.' };
const IF_MATCH = { name: 'If-Match', description: 'The draft ETag this change is based on; a newer draft answers 412.' };
const RUN_STARTED: Record<number, RouteResponse> = {
  200: {
    description: 'mode=sync: the finished run. stream=true: Server-Sent Events, `snapshot` (a Run), lifecycle events (unnamed), then `end` (a Run).',
    schema: S.Run,
    events: S.RunEvent,
    headers: ['Location'],
  },
  202: { description: 'The run was accepted (or mode=sync outlasted the wait).', schema: S.RunAccepted, headers: ['Location', 'Idempotent-Replayed'] },
  422: problem('The spec or the inputs are invalid (errors[]).'),
};
const RUN_EVENTS: RouteResponse = { description: 'Server-Sent Events: `snapshot` (a Run), lifecycle events (unnamed), then `end` (a Run).', events: S.RunEvent };

/**
 * The scheduler's routes, with the schemas its controllers validate with (routes.spec.ts
 * checks this table against its controllers).
 */
export const SCHEDULER_ROUTES = {
  openapi: { method: 'get', path: '/openapi.json', summary: 'This document', tag: 'meta', auth: false, responses: { 200: { description: 'OpenAPI 3.1' } } },
  createWorkflow: {
    method: 'post',
    path: '/v1/workflows',
    summary: 'Register a workflow (optionally with its first draft)',
    tag: 'workflows',
    body: S.CreateWorkflowBody,
    responses: { 201: { description: 'Created', schema: S.Workflow, headers: ['Location', 'ETag'] }, 409: problem('The name is taken'), 422: problem('The spec is invalid (errors[])') },
  },
  listWorkflows: {
    method: 'get',
    path: '/v1/workflows',
    summary: 'List workflows by name',
    tag: 'workflows',
    query: S.PageQuery,
    responses: { 200: { description: 'A page', schema: S.WorkflowPage } },
  },
  getWorkflow: {
    method: 'get',
    path: '/v1/workflows/{id}',
    summary: 'A workflow (by id or name)',
    tag: 'workflows',
    params: S.IdPath,
    responses: { 200: { description: 'The workflow', schema: S.Workflow, headers: ['ETag'] }, 404: problem('No such workflow') },
  },
  updateWorkflow: {
    method: 'patch',
    path: '/v1/workflows/{id}',
    summary: 'Change a workflow\'s description',
    tag: 'workflows',
    params: S.IdPath,
    body: S.UpdateWorkflowBody,
    responses: { 200: { description: 'The workflow', schema: S.Workflow }, 404: problem('No such workflow') },
  },
  deleteWorkflow: {
    method: 'delete',
    path: '/v1/workflows/{id}',
    summary: 'Delete a workflow and its versions (runs keep their spec)',
    tag: 'workflows',
    params: S.IdPath,
    responses: { 204: { description: 'Deleted' }, 404: problem('No such workflow') },
  },
  getDraft: {
    method: 'get',
    path: '/v1/workflows/{id}/draft',
    summary: 'The draft being edited',
    tag: 'workflows',
    params: S.IdPath,
    responses: { 200: { description: 'The draft', schema: S.Draft, headers: ['ETag'] }, 404: problem('No such workflow') },
  },
  saveDraft: {
    method: 'patch',
    path: '/v1/workflows/{id}/draft',
    summary: 'Replace the draft (validated like `weft validate`)',
    tag: 'workflows',
    params: S.IdPath,
    body: S.SpecBody,
    headers: [IF_MATCH],
    responses: {
      200: { description: 'The saved draft, its revision bumped', schema: S.Draft, headers: ['ETag'] },
      404: problem('No such workflow'),
      412: problem('The draft changed since the If-Match revision'),
      422: problem('The spec is invalid (errors[])'),
    },
  },
  freezeVersion: {
    method: 'post',
    path: '/v1/workflows/{id}/versions',
    summary: 'Freeze the draft as an immutable version (the same spec returns the existing version)',
    tag: 'versions',
    params: S.IdPath,
    responses: {
      200: { description: 'An identical version existed: that one', schema: S.VersionDetail, headers: ['Location'] },
      201: { description: 'A new version', schema: S.VersionDetail, headers: ['Location'] },
      409: problem('There is no draft'),
    },
  },
  listVersions: {
    method: 'get',
    path: '/v1/workflows/{id}/versions',
    summary: 'Versions, newest first',
    tag: 'versions',
    params: S.IdPath,
    responses: { 200: { description: 'The versions', schema: S.VersionList }, 404: problem('No such workflow') },
  },
  getVersion: {
    method: 'get',
    path: '/v1/workflows/{id}/versions/{version}',
    summary: 'One version with its spec',
    tag: 'versions',
    params: S.VersionPath,
    responses: { 200: { description: 'The version', schema: S.VersionDetail }, 404: problem('No such workflow or version') },
  },
  publishVersion: {
    method: 'post',
    path: '/v1/workflows/{id}/versions/{version}/publish',
    summary: 'Make a version the one runs start with',
    tag: 'versions',
    params: S.VersionPath,
    responses: { 200: { description: 'The workflow', schema: S.Workflow }, 404: problem('No such version'), 409: problem('The version is archived') },
  },
  archiveVersion: {
    method: 'post',
    path: '/v1/workflows/{id}/versions/{version}/archive',
    summary: 'Retire a version (it can no longer run or be published)',
    tag: 'versions',
    params: S.VersionPath,
    responses: { 200: { description: 'The version', schema: S.Version }, 404: problem('No such version'), 409: problem('The version is the published one') },
  },
  startWorkflowRun: {
    method: 'post',
    path: '/v1/workflows/{id}/runs',
    summary: 'Start a run of the published (or a given) version',
    tag: 'runs',
    params: S.IdPath,
    query: S.RunCreationQuery,
    body: S.StartRunBody,
    headers: [IDEMPOTENCY],
    responses: { ...RUN_STARTED, 404: problem('No such workflow or version'), 409: problem('Nothing published, or the version is archived') },
  },
  startAdhocRun: {
    method: 'post',
    path: '/v1/runs/adhoc',
    summary: 'Start a run of a spec given in the body',
    tag: 'runs',
    query: S.RunCreationQuery,
    body: S.AdhocRunBody,
    headers: [IDEMPOTENCY],
    responses: RUN_STARTED,
  },
  listRuns: {
    method: 'get',
    path: '/v1/runs',
    summary: 'Runs, newest first (filter by workflow, status, time)',
    tag: 'runs',
    query: S.ListRunsQuery,
    responses: { 200: { description: 'A page', schema: S.RunPage }, 400: problem('A filter is invalid (errors[])') },
  },
  getRun: {
    method: 'get',
    path: '/v1/runs/{id}',
    summary: 'A run with its steps',
    tag: 'runs',
    params: S.IdPath,
    responses: { 200: { description: 'The run', schema: S.Run }, 404: problem('No such run') },
  },
  getRunOutput: {
    method: 'get',
    path: '/v1/runs/{id}/output',
    summary: 'A finished run\'s outputs',
    tag: 'runs',
    params: S.IdPath,
    responses: { 200: { description: 'The outputs', schema: S.RunOutput }, 404: problem('No such run'), 409: problem('The run has not finished') },
  },
  streamRun: {
    method: 'get',
    path: '/v1/runs/{id}/stream',
    summary: 'Follow a run: Server-Sent Events until it ends',
    tag: 'runs',
    params: S.IdPath,
    responses: { 200: RUN_EVENTS, 404: problem('No such run') },
  },
  cancelRun: {
    method: 'post',
    path: '/v1/runs/{id}/cancel',
    summary: 'Cancel a run (in-flight steps are aborted)',
    tag: 'runs',
    params: S.IdPath,
    body: S.CancelBody,
    responses: { 200: { description: 'The canceled run', schema: S.Run }, 404: problem('No such run'), 409: problem('The run already ended') },
  },
  resumeRun: {
    method: 'post',
    path: '/v1/runs/{id}/resume',
    summary: 'Resume a stuck run: re-dispatch its in-flight steps, fire its retry timers now',
    tag: 'runs',
    params: S.IdPath,
    responses: { 200: { description: 'What was resumed', schema: S.ResumeResult }, 404: problem('No such run'), 409: problem('The run is not running') },
  },
  retryRun: {
    method: 'post',
    path: '/v1/runs/{id}/retry',
    summary: 'Re-run the failed, canceled and skipped steps of a finished run',
    tag: 'runs',
    params: S.IdPath,
    responses: { 200: { description: 'The run, running again', schema: S.Run }, 404: problem('No such run'), 409: problem('The run cannot be retried') },
  },
  rerunRun: {
    method: 'post',
    path: '/v1/runs/{id}/rerun',
    summary: 'A new run reusing the outputs of every step not downstream of `from`',
    tag: 'runs',
    params: S.IdPath,
    query: S.RerunQuery,
    body: S.RerunBody,
    headers: [IDEMPOTENCY],
    responses: { ...RUN_STARTED, 400: problem('`from` is not a step'), 404: problem('No such run'), 409: problem('The run has no stored versions') },
  },
  catalogActions: {
    method: 'get',
    path: '/v1/catalog/actions',
    summary: 'Built-in actions and those live workers announce, with input schemas',
    tag: 'catalog',
    responses: { 200: { description: 'The actions', schema: S.ActionCatalog } },
  },
  catalogTemplates: {
    method: 'get',
    path: '/v1/catalog/templates',
    summary: 'Workflow templates',
    tag: 'catalog',
    responses: { 200: { description: 'The templates', schema: S.TemplateCatalog } },
  },
  validate: {
    method: 'post',
    path: '/v1/validate',
    summary: 'Validate a spec: the diagnostics of `weft validate`',
    tag: 'catalog',
    body: S.SpecBody,
    responses: { 200: { description: 'The verdict', schema: S.ValidationResult } },
  },
  createKey: {
    method: 'post',
    path: '/v1/keys',
    summary: 'Make an API key (shown once)',
    tag: 'keys',
    body: S.CreateKeyBody,
    responses: { 201: { description: 'The key', schema: S.CreatedApiKey }, 403: problem('A key may make keys for its own namespace only') },
  },
  listKeys: {
    method: 'get',
    path: '/v1/keys',
    summary: 'The keys of the caller\'s namespace (never the keys themselves)',
    tag: 'keys',
    responses: { 200: { description: 'The keys', schema: S.ApiKeyList } },
  },
  revokeKey: {
    method: 'delete',
    path: '/v1/keys/{keyId}',
    summary: 'Revoke a key',
    tag: 'keys',
    params: S.KeyPath,
    responses: { 200: { description: 'The revoked key', schema: S.ApiKey }, 404: problem('No such key') },
  },
} satisfies Record<string, RouteSpec>;

/** Not validated by the journal (Nest matches any non-empty segment): what a client sends. */
const CheckpointPath = z.object({ id: z.string().min(1), stepId: z.string().min(1) });
const NO_RUN = problem('The journal has no entry for this run (never seen, pruned, or of another namespace)');
const BAD_QUERY = problem('A query parameter is malformed (INVALID_QUERY; the detail names it)');

/** The journal's routes (services/journal), part of the same /v1 API: its query parsing validates with these query schemas. */
export const JOURNAL_ROUTES = {
  runHistory: {
    method: 'get',
    path: '/v1/runs/{id}/history',
    summary: 'The story of a run from the journal: summary, steps with their attempts, one readable line per event',
    tag: 'journal',
    params: S.IdPath,
    responses: { 200: { description: 'The history', schema: J.RunHistory }, 404: NO_RUN },
  },
  runJournalEvents: {
    method: 'get',
    path: '/v1/runs/{id}/events',
    summary: 'A run\'s journaled lifecycle events, in order, filtered and paged',
    tag: 'journal',
    params: S.IdPath,
    query: J.RunEventsQuery,
    responses: { 200: { description: 'A page', schema: J.EventPage }, 400: BAD_QUERY, 404: NO_RUN },
  },
  runCheckpoints: {
    method: 'get',
    path: '/v1/runs/{id}/checkpoints',
    summary: 'The checkpoints of a run: each completed step\'s output and the state up to it',
    tag: 'journal',
    params: S.IdPath,
    responses: { 200: { description: 'The checkpoints, in event order', schema: J.CheckpointList }, 404: NO_RUN },
  },
  runCheckpoint: {
    method: 'get',
    path: '/v1/runs/{id}/checkpoints/{stepId}',
    summary: 'The checkpoint of one step',
    tag: 'journal',
    params: CheckpointPath,
    responses: { 200: { description: 'The checkpoint', schema: J.Checkpoint }, 404: problem('No such run, or the step has no checkpoint (it did not complete, or was pruned)') },
  },
  reconstructRun: {
    method: 'get',
    path: '/v1/runs/{id}/reconstruct',
    summary: 'Everything the journal knows about a run: its folded state, steps, events and checkpoints',
    tag: 'journal',
    params: S.IdPath,
    responses: { 200: { description: 'The reconstruction', schema: J.RunReconstruction }, 404: NO_RUN },
  },
  listJournalEvents: {
    method: 'get',
    path: '/v1/events',
    summary: 'Journaled lifecycle events across runs, filtered and paged',
    tag: 'journal',
    query: J.EventsQuery,
    responses: { 200: { description: 'A page', schema: J.EventPage }, 400: BAD_QUERY },
  },
} satisfies Record<string, RouteSpec>;

const BAD_WINDOW = problem('A query parameter is malformed, or the window is empty, longer than 400 days or out of range (INVALID_QUERY)');

/** Analytics' routes (services/analytics), part of the same /v1 API: its query parsing validates with InsightsQuery. */
export const INSIGHTS_ROUTES = {
  insights: {
    method: 'get',
    path: '/v1/insights',
    summary: 'A window\'s figures: runs, steps, failure hotspots, slowest and flaky steps, the duration trend, the headline findings',
    tag: 'insights',
    query: I.InsightsQuery,
    responses: { 200: { description: 'The summary', schema: I.InsightSummary }, 400: BAD_WINDOW },
  },
  insightHotspots: {
    method: 'get',
    path: '/v1/insights/hotspots',
    summary: 'The steps that fail most (final failures, then retries), with their top error',
    tag: 'insights',
    query: I.InsightsQuery,
    responses: { 200: { description: 'The hotspots', schema: I.InsightHotspots }, 400: BAD_WINDOW },
  },
  insightTrends: {
    method: 'get',
    path: '/v1/insights/trends',
    summary: 'Run durations per hour or day, with a moving average and its direction',
    tag: 'insights',
    query: I.InsightsQuery,
    responses: { 200: { description: 'The trend', schema: I.InsightTrend }, 400: BAD_WINDOW },
  },
  insightSteps: {
    method: 'get',
    path: '/v1/insights/steps',
    summary: 'Per-step figures: outcomes, success and retry rates, durations',
    tag: 'insights',
    query: I.InsightsQuery,
    responses: { 200: { description: 'The steps', schema: I.InsightSteps }, 400: BAD_WINDOW },
  },
} satisfies Record<string, RouteSpec>;

/**
 * Every route of the /v1 API, whichever service serves it (`weft dev` mounts them in one
 * app; in Kubernetes the ingress routes them), with the schemas it validates with: the
 * OpenAPI document is built from this table, and tests check it against the controllers.
 */
export const ROUTES = { ...SCHEDULER_ROUTES, ...JOURNAL_ROUTES, ...INSIGHTS_ROUTES } satisfies Record<string, RouteSpec>;

export type RouteName = keyof typeof ROUTES;
/** Routes every response of which may also be these problems. */
export const COMMON_PROBLEMS: Record<number, RouteResponse> = {
  400: problem('Malformed JSON, or a body, query or path that breaks the schema (errors[])'),
  401: problem('Missing or invalid API key'),
  413: problem('The body is larger than the server accepts'),
  415: problem('The body is not JSON'),
};

export const ROUTE_LIST: readonly RouteSpec[] = Object.values(ROUTES);
