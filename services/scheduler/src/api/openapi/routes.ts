import { InsightsHttp as I, JournalHttp as J, TriggersHttp as T, problemResponse as problem, type RouteResponse, type RouteSpec } from '@weft/contracts';
import * as S from '../api.schemas';
import { WAIT_ROUTES } from './wait-routes';
import { FLOW_ROUTES } from './flow-routes';
import { BLOB_ROUTES } from './blob-routes';

export type { HttpMethod, RouteResponse, RouteSpec } from '@weft/contracts';

const IDEMPOTENCY = { name: 'Idempotency-Key', description: 'The same key returns the same run (per namespace) instead of starting another.' };
const SOURCE = { name: 'Weft-Source', description: 'The client starting the run, kept as its source: `api` (the default) or `cli` (what `weft` sends).' };
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
/** Routes that check a spec: a large one waits for the spec check thread, and past 32 waiting is refused. */
const SPEC_BUSY = { 503: problem('Too many large specs are waiting to be checked; try again shortly (SPEC_CHECKS_BUSY)') };
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
    responses: { 201: { description: 'Created', schema: S.Workflow, headers: ['Location', 'ETag'] }, 409: problem('The name is taken'), 422: problem('The spec is invalid (errors[])'), ...SPEC_BUSY },
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
      ...SPEC_BUSY,
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
    headers: [IDEMPOTENCY, SOURCE],
    responses: { ...RUN_STARTED, 404: problem('No such workflow or version'), 409: problem('Nothing published, or the version is archived') },
  },
  startAdhocRun: {
    method: 'post',
    path: '/v1/runs/adhoc',
    summary: 'Start a run of a spec given in the body',
    tag: 'runs',
    query: S.RunCreationQuery,
    body: S.AdhocRunBody,
    headers: [IDEMPOTENCY, SOURCE],
    responses: { ...RUN_STARTED, ...SPEC_BUSY },
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
  getStepInput: {
    method: 'get',
    path: '/v1/runs/{id}/steps/{step}/input',
    summary: "A step's input as evaluated, beside its with: as written",
    tag: 'runs',
    params: S.StepPath,
    responses: { 200: { description: 'The input', schema: S.StepInput }, 404: problem('No such run in the caller\'s namespace, or no such step') },
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
    responses: { 200: { description: 'The verdict', schema: S.ValidationResult }, ...SPEC_BUSY },
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
  ...WAIT_ROUTES,
  ...FLOW_ROUTES,
  ...BLOB_ROUTES,
} satisfies Record<string, RouteSpec>;

/** The journal's routes (services/journal); the table lives with its schemas in @weft/contracts. */
export const JOURNAL_ROUTES = J.ROUTES;

/** Analytics' routes (services/analytics); the table lives with its schemas in @weft/contracts. */
export const INSIGHTS_ROUTES = I.ROUTES;

/**
 * Every route of the /v1 API, whichever service serves it (`weft dev` mounts them in one
 * app; in Kubernetes the ingress routes them), with the schemas it validates with: the
 * OpenAPI document is built from this table, and tests check it against the controllers.
 */
/** The triggers service's routes (services/triggers); the table lives with its schemas in @weft/contracts. */
export const TRIGGERS_ROUTES = T.ROUTES;

export const ROUTES = { ...SCHEDULER_ROUTES, ...JOURNAL_ROUTES, ...INSIGHTS_ROUTES, ...TRIGGERS_ROUTES } satisfies Record<string, RouteSpec>;

export type RouteName = keyof typeof ROUTES;
/** Routes every response of which may also be these problems. */
export const COMMON_PROBLEMS: Record<number, RouteResponse> = {
  400: problem('Malformed JSON, or a body, query or path that breaks the schema (errors[])'),
  401: problem('Missing or invalid API key'),
  413: problem('The body is larger than the server accepts'),
  415: problem('The body is not JSON'),
};

export const ROUTE_LIST: readonly RouteSpec[] = Object.values(ROUTES);
