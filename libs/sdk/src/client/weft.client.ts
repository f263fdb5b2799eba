import type {
  ApiKey,
  CatalogAction,
  Checkpoint,
  CreatedApiKey,
  Draft,
  InsightHotspots,
  InsightReviews,
  InsightSteps,
  InsightSummary,
  InsightTrend,
  JournalEntry,
  Page,
  ResumeResult,
  Run,
  RunAccepted,
  RunHistory,
  RunOutput,
  RunReconstruction,
  RunStreamEvent,
  RunSummary,
  StepInput,
  Template,
  ValidationResult,
  Version,
  VersionDetail,
  Workflow,
} from './api.types';
import type { TriggersHttp } from '@weft/contracts';
import type { AuditQuery, AuditRecord, BulkExceptionsResult, ExceptionFilter, ExceptionItem, ExceptionKind, ExceptionQuery, DecisionRequest, DecisionResult, Review, ReviewListQuery, ReviewSummary, Signal, SignalListQuery, SignalRequest } from './wait.types';
import type { RunWhy, StepItemPage, StepItemsQuery } from './flow.types';
import { body, enc, eventsQuery, idempotency, limitQuery, pageQuery, WeftHttp, windowQuery } from './weft.client.http';
import type {
  EventsQuery,
  InsightsHotspotsQuery,
  InsightsQuery,
  InsightsSummaryQuery,
  InsightsTrendsQuery,
  RunEventsQuery,
  RunListQuery,
  RunRequest,
  SpecInput,
  TriggerBackfill,
  TriggerFirePage,
  TriggerOccurrence,
  TriggerSummary,
  TriggerTestResult,
  WeftClientOptions,
  WorkflowRunRequest,
} from './weft.client.types';

export type * from './weft.client.types';

/**
 * A typed client of the Weft HTTP API. Errors come back as WeftApiError carrying the
 * problem document; a server that cannot be reached as WeftConnectionError.
 *
 * ```ts
 * const weft = new WeftClient({ url: 'http://127.0.0.1:8080', apiKey: process.env.WEFT_API_KEY });
 * const run = await weft.workflows.execute('data-pipeline', { inputs: { source: 's3://bucket/batch' } });
 * ```
 */
export class WeftClient {
  private readonly http: WeftHttp;

  constructor(options: WeftClientOptions) {
    this.http = new WeftHttp(options);
  }

  readonly workflows = {
    create: (input: { name?: string; description?: string | null } & Partial<SpecInput>): Promise<Workflow> => this.http.json('POST', '/v1/workflows', input),
    list: (page: { limit?: number; cursor?: string } = {}): Promise<Page<Workflow>> =>
      this.http.json('GET', '/v1/workflows', undefined, { limit: page.limit?.toString(), cursor: page.cursor }),
    get: (ref: string): Promise<Workflow> => this.http.json('GET', `/v1/workflows/${enc(ref)}`),
    update: (ref: string, changes: { description: string | null }): Promise<Workflow> => this.http.json('PATCH', `/v1/workflows/${enc(ref)}`, changes),
    delete: async (ref: string): Promise<void> => {
      await this.http.call('DELETE', `/v1/workflows/${enc(ref)}`);
    },
    draft: (ref: string): Promise<Draft> => this.http.json('GET', `/v1/workflows/${enc(ref)}/draft`),
    /** With `ifRevision`, only when the draft is still at that revision (else WeftApiError 412 STALE_REVISION). */
    saveDraft: (ref: string, spec: SpecInput, options: { ifRevision?: number } = {}): Promise<Draft> =>
      this.http.json('PATCH', `/v1/workflows/${enc(ref)}/draft`, spec, {}, options.ifRevision === undefined ? {} : { 'If-Match': `"${options.ifRevision}"` }),
    /** Freezes the draft; `created: false` when an identical version existed. */
    freeze: async (ref: string): Promise<{ version: VersionDetail; created: boolean }> => {
      const response = await this.http.call('POST', `/v1/workflows/${enc(ref)}/versions`);
      return { version: (await response.json()) as VersionDetail, created: response.status === 201 };
    },
    versions: async (ref: string): Promise<Version[]> => (await this.http.json<{ items: Version[] }>('GET', `/v1/workflows/${enc(ref)}/versions`)).items,
    version: (ref: string, version: number): Promise<VersionDetail> => this.http.json('GET', `/v1/workflows/${enc(ref)}/versions/${version}`),
    publish: (ref: string, version: number): Promise<Workflow> => this.http.json('POST', `/v1/workflows/${enc(ref)}/versions/${version}/publish`),
    archive: (ref: string, version: number): Promise<Version> => this.http.json('POST', `/v1/workflows/${enc(ref)}/versions/${version}/archive`),
    /** Starts a run of the published (or a given) version; resolves at once. */
    start: (ref: string, request: WorkflowRunRequest = {}): Promise<RunAccepted> =>
      this.startRun(`/v1/workflows/${enc(ref)}/runs`, body(request, { version: request.version }), request.idempotencyKey),
    /** Starts a run and resolves with it once it ended. */
    execute: (ref: string, request: WorkflowRunRequest = {}): Promise<Run> =>
      this.runToEnd(`/v1/workflows/${enc(ref)}/runs`, body(request, { version: request.version }), request.idempotencyKey),
    /** Starts a run and streams it in the same request: the run, each lifecycle event, the finished run. */
    follow: (ref: string, request: WorkflowRunRequest = {}): AsyncGenerator<RunStreamEvent> =>
      this.http.sse('POST', `/v1/workflows/${enc(ref)}/runs`, body(request, { version: request.version }), { stream: 'true' }, request.idempotencyKey),
  };

  readonly runs = {
    /** Starts a run of a spec given here (ad hoc); resolves at once. */
    start: (spec: SpecInput, request: RunRequest = {}): Promise<RunAccepted> => this.startRun('/v1/runs/adhoc', body(request, spec), request.idempotencyKey),
    execute: (spec: SpecInput, request: RunRequest = {}): Promise<Run> => this.runToEnd('/v1/runs/adhoc', body(request, spec), request.idempotencyKey),
    /** Starts an ad-hoc run and streams it: the run, each lifecycle event, the finished run. */
    follow: (spec: SpecInput, request: RunRequest = {}): AsyncGenerator<RunStreamEvent> =>
      this.http.sse('POST', '/v1/runs/adhoc', body(request, spec), { stream: 'true' }, request.idempotencyKey),
    /** Streams an existing run from now until it ends. */
    stream: (runId: string): AsyncGenerator<RunStreamEvent> => this.http.sse('GET', `/v1/runs/${enc(runId)}/stream`),
    /** The run once it ended. */
    wait: async (runId: string): Promise<Run> => {
      for await (const event of this.runs.stream(runId)) if (event.type === 'end') return event.run;
      return this.runs.get(runId);
    },
    list: (query: RunListQuery = {}): Promise<Page<RunSummary>> =>
      this.http.json('GET', '/v1/runs', undefined, {
        workflow: query.workflow,
        status: query.status?.join(','),
        since: query.since,
        until: query.until,
        prefix: query.prefix,
        correlationId: query.correlationId,
        limit: query.limit?.toString(),
        cursor: query.cursor,
      }),
    get: (runId: string): Promise<Run> => this.http.json('GET', `/v1/runs/${enc(runId)}`),
    output: (runId: string): Promise<RunOutput> => this.http.json('GET', `/v1/runs/${enc(runId)}/output`),
    cancel: (runId: string, reason?: string): Promise<Run> => this.http.json('POST', `/v1/runs/${enc(runId)}/cancel`, reason === undefined ? {} : { reason }),
    resume: (runId: string): Promise<ResumeResult> => this.http.json('POST', `/v1/runs/${enc(runId)}/resume`),
    retry: (runId: string): Promise<Run> => this.http.json('POST', `/v1/runs/${enc(runId)}/retry`),
    /** For every unfinished step, the one reason it has not moved and since when. */
    why: (runId: string): Promise<RunWhy> => this.http.json('GET', `/v1/runs/${enc(runId)}/why`),
    /** A step's output (a large one, stored by reference, is fetched in full): GET /v1/runs/{id}/steps/{step}/output. */
    stepOutput: (runId: string, stepId: string): Promise<unknown> => this.http.json('GET', `/v1/runs/${enc(runId)}/steps/${enc(stepId)}/output`),
    /** The same as a Response whose body streams the output's JSON bytes (for outputs too big to parse at once). */
    /** A step's evaluated input (`with:` rendered in the run's scope; `input: null` and a `reason` when it has none): GET /v1/runs/{id}/steps/{step}/input. */
    stepInput: (runId: string, stepId: string): Promise<StepInput> => this.http.json('GET', `/v1/runs/${enc(runId)}/steps/${enc(stepId)}/input`),
    stepOutputStream: (runId: string, stepId: string): Promise<Response> => this.http.call('GET', `/v1/runs/${enc(runId)}/steps/${enc(stepId)}/output`),
    /** The run's inputs, whole (also when stored by reference: GET /v1/runs/{id}/inputs). */
    inputs: (runId: string): Promise<Record<string, unknown>> => this.http.json('GET', `/v1/runs/${enc(runId)}/inputs`),
    /** A finished run's outputs, whole (also when stored by reference; null without `outputs:`); WeftApiError RUN_NOT_FINISHED before it ends. */
    outputs: (runId: string): Promise<Record<string, unknown> | null> => this.http.json('GET', `/v1/runs/${enc(runId)}/outputs`),
    /** The same as a Response whose body streams the JSON bytes of the run's inputs or outputs. */
    payloadStream: (runId: string, which: 'inputs' | 'outputs'): Promise<Response> => this.http.call('GET', `/v1/runs/${enc(runId)}/${which}`),
    /** A page of a forEach step's items, in index order. */
    items: (runId: string, stepId: string, query: StepItemsQuery = {}): Promise<StepItemPage> =>
      this.http.json('GET', `/v1/runs/${enc(runId)}/steps/${enc(stepId)}/items`, undefined, { offset: query.offset?.toString(), limit: query.limit?.toString(), status: query.status }),
    /** A new run that reuses the outputs of every step not downstream of `from`. */
    rerun: (runId: string, options: { from?: string; version?: number | 'published'; idempotencyKey?: string } = {}): Promise<RunAccepted> =>
      this.http.json('POST', `/v1/runs/${enc(runId)}/rerun`, options.version === undefined ? {} : { version: options.version }, { from: options.from }, idempotency(options.idempotencyKey)),
    // From the journal: RUN_NOT_FOUND until the run's first event is journaled, or once it was pruned.
    /** The readable story of the run: summary, steps with their attempts, one line per event (`weft history`). */
    history: (runId: string): Promise<RunHistory> => this.http.json('GET', `/v1/runs/${enc(runId)}/history`),
    /** The run's journal entries in decision order, filtered and paged: pass `nextCursor` as `cursor`. */
    events: (runId: string, query: RunEventsQuery = {}): Promise<Page<JournalEntry>> => this.http.json('GET', `/v1/runs/${enc(runId)}/events`, undefined, eventsQuery(query)),
    /** The checkpoints of the run's completed steps, in order. */
    checkpoints: (runId: string): Promise<Checkpoint[]> => this.http.json('GET', `/v1/runs/${enc(runId)}/checkpoints`),
    /** One step's checkpoint; WeftApiError CHECKPOINT_NOT_FOUND when the step did not complete. */
    checkpoint: (runId: string, stepId: string): Promise<Checkpoint> => this.http.json('GET', `/v1/runs/${enc(runId)}/checkpoints/${enc(stepId)}`),
    /** Everything the journal knows: the run folded from its events, steps, every event, checkpoints, notes. */
    reconstruct: (runId: string): Promise<RunReconstruction> => this.http.json('GET', `/v1/runs/${enc(runId)}/reconstruct`),
  };

  /** Figures from analytics over a window of whole hours, for the key's namespace. */
  readonly insights = {
    /** Runs, steps, the top hotspots, slowest and flakiest steps, the duration trend and the findings. */
    summary: (query: InsightsSummaryQuery = {}): Promise<InsightSummary> =>
      this.http.json('GET', '/v1/insights', undefined, { ...windowQuery(query), window: query.window?.toString() }),
    /** Steps with failures or retries, most failures first. */
    hotspots: (query: InsightsHotspotsQuery = {}): Promise<InsightHotspots> =>
      this.http.json('GET', '/v1/insights/hotspots', undefined, { ...windowQuery(query), limit: query.limit?.toString() }),
    /** The duration trend of completed runs, with its moving average. */
    trends: (query: InsightsTrendsQuery = {}): Promise<InsightTrend> =>
      this.http.json('GET', '/v1/insights/trends', undefined, { ...windowQuery(query), window: query.window?.toString(), granularity: query.granularity }),
    /** Every step's figures. */
    steps: (query: InsightsQuery = {}): Promise<InsightSteps> => this.http.json('GET', '/v1/insights/steps', undefined, windowQuery(query)),
    /** Per reviewed step: time to decision (avg, p50, p95) and rejection rate of the reviews decided in the window. */
    reviews: (query: InsightsQuery = {}): Promise<InsightReviews> => this.http.json('GET', '/v1/insights/reviews', undefined, windowQuery(query)),
  };

  readonly catalog = {
    actions: async (): Promise<CatalogAction[]> => (await this.http.json<{ items: CatalogAction[] }>('GET', '/v1/catalog/actions')).items,
    templates: async (): Promise<Template[]> => (await this.http.json<{ items: Template[] }>('GET', '/v1/catalog/templates')).items,
  };

  /** Triggers of the published versions (docs/triggers.md): the catalog, the fire log and the controls. */
  readonly triggers = {
    list: async (): Promise<TriggerSummary[]> => (await this.http.json<{ triggers: TriggerSummary[] }>('GET', '/v1/triggers')).triggers,
    fires: (workflow: string, trigger: string, query: { limit?: number; before?: string; outcome?: string } = {}): Promise<TriggerFirePage> =>
      this.http.json('GET', `/v1/triggers/${enc(workflow)}/${enc(trigger)}/fires`, undefined, {
        ...limitQuery(query.limit),
        before: query.before,
        outcome: query.outcome,
      }),
    pause: (workflow: string, trigger: string): Promise<{ state: string }> => this.http.json('POST', `/v1/triggers/${enc(workflow)}/${enc(trigger)}/pause`, {}),
    resume: (workflow: string, trigger: string): Promise<{ state: string }> => this.http.json('POST', `/v1/triggers/${enc(workflow)}/${enc(trigger)}/resume`, {}),
    fire: (workflow: string, trigger: string, request: { inputs?: Record<string, unknown>; key?: string } = {}): Promise<TriggerOccurrence> =>
      this.http.json('POST', `/v1/triggers/${enc(workflow)}/${enc(trigger)}/fire`, request),
    backfill: (workflow: string, trigger: string, range: { from: string; to: string }): Promise<TriggerBackfill> =>
      this.http.json('POST', `/v1/triggers/${enc(workflow)}/${enc(trigger)}/backfill`, range),
    test: (workflow: string, trigger: string, sample: TriggersHttp.TestBodyInput = {}): Promise<TriggerTestResult> =>
      this.http.json('POST', `/v1/triggers/${enc(workflow)}/${enc(trigger)}/test`, sample),
  };

  /** Signals: outside events that `wait.event` steps wait for (docs/waits-and-reviews.md). */
  readonly signals = {
    /** Sends a signal; a repeated `id` answers the first one. */
    send: (signal: SignalRequest): Promise<Signal> => this.http.json('POST', '/v1/signals', signal),
    list: (query: SignalListQuery = {}): Promise<Page<Signal>> =>
      this.http.json('GET', '/v1/signals', undefined, pageQuery(query, ['name', 'key', 'since'])),
  };

  /** Reviews: step outputs held for a person's decision (`review:`). */
  readonly reviews = {
    list: (query: ReviewListQuery = {}): Promise<Page<ReviewSummary>> =>
      this.http.json('GET', '/v1/reviews', undefined, pageQuery(query, ['status', 'workflow', 'assignee'])),
    get: (id: string): Promise<Review> => this.http.json('GET', `/v1/reviews/${enc(id)}`),
    /** continue | correct (with payload) | retry | reject | escalate; WeftApiError 409 when decided before (its `decision`), 422 for a bad correction. */
    decide: (id: string, decision: DecisionRequest): Promise<DecisionResult> => this.http.json('POST', `/v1/reviews/${enc(id)}/decision`, decision),
  };

  /** The exception queue: open reviews and failed runs; resolve one with a note. */
  readonly exceptions = {
    list: (query: ExceptionQuery = {}): Promise<Page<ExceptionItem>> =>
      this.http.json('GET', '/v1/exceptions', undefined, pageQuery(query, ['kind', 'workflow', 'since'], query.resolved === true ? { resolved: 'true' } : {})),
    resolve: (kind: ExceptionKind, id: string, note: string): Promise<{ kind: ExceptionKind; id: string; resolved: true }> =>
      this.http.json('POST', `/v1/exceptions/${enc(kind)}/${enc(id)}/resolve`, { note }),
    /** Retry (failed runs; stuck runs are resumed), cancel or resolve (with a note) every open item the filter matches. */
    bulk: (filter: ExceptionFilter, action: 'retry' | 'cancel' | 'resolve', note?: string): Promise<BulkExceptionsResult> =>
      this.http.json('POST', '/v1/exceptions/bulk', { filter, action, ...(note !== undefined && { note }) }),
  };

  /** The namespace's audit log, oldest first (append-only). */
  audit(query: AuditQuery = {}): Promise<Page<AuditRecord>> {
    return this.http.json('GET', '/v1/audit', undefined, pageQuery(query, ['target', 'actor', 'action', 'since']));
  }

  readonly keys = {
    create: (request: { namespace?: string; name?: string } = {}): Promise<CreatedApiKey> => this.http.json('POST', '/v1/keys', request),
    list: async (): Promise<ApiKey[]> => (await this.http.json<{ items: ApiKey[] }>('GET', '/v1/keys')).items,
    revoke: (keyId: string): Promise<ApiKey> => this.http.json('DELETE', `/v1/keys/${enc(keyId)}`),
  };

  /** Journal entries across the caller's runs, oldest first, paged: pass `nextCursor` as `cursor`. */
  events(query: EventsQuery = {}): Promise<Page<JournalEntry>> {
    return this.http.json('GET', '/v1/events', undefined, { ...eventsQuery(query), workflow: query.workflow, runId: query.runId });
  }

  /** The diagnostics `weft validate` would print, from the server. */
  validate(spec: SpecInput): Promise<ValidationResult> {
    return this.http.json('POST', '/v1/validate', spec);
  }

  openapi(): Promise<Record<string, unknown>> {
    return this.http.json('GET', '/openapi.json');
  }

  private async startRun(path: string, payload: Record<string, unknown>, key: string | undefined): Promise<RunAccepted> {
    return this.http.json('POST', path, payload, { mode: 'async' }, idempotency(key));
  }

  private async runToEnd(path: string, payload: Record<string, unknown>, key: string | undefined): Promise<Run> {
    const response = await this.http.call('POST', path, payload, { mode: 'sync', wait: '10m' }, idempotency(key));
    if (response.status === 200) return (await response.json()) as Run;
    // Outlasted the server's wait: follow it to the end.
    return this.runs.wait(((await response.json()) as RunAccepted).runId);
  }
}
