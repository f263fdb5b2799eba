import type { LifecycleEvent, LifecycleEventType, RunStatus, TriggersHttp } from '@weft/contracts';
import type { WorkflowSpec } from '@weft/core';
import type {
  ApiKey,
  CatalogAction,
  Checkpoint,
  CreatedApiKey,
  Draft,
  InsightHotspots,
  InsightSteps,
  InsightSummary,
  InsightTrend,
  JournalEntry,
  Page,
  Problem,
  ResumeResult,
  Run,
  RunAccepted,
  RunHistory,
  RunOutput,
  RunReconstruction,
  RunStreamEvent,
  RunSummary,
  Template,
  ValidationResult,
  Version,
  VersionDetail,
  Workflow,
} from './api.types';
import { WeftApiError, WeftConnectionError } from './client.errors';
import { readServerSentEvents } from './sse.util';
import type { AuditQuery, AuditRecord, BulkExceptionsResult, ExceptionFilter, ExceptionItem, ExceptionKind, ExceptionQuery, DecisionRequest, DecisionResult, Review, ReviewListQuery, ReviewSummary, Signal, SignalListQuery, SignalRequest } from './wait.types';
import type { RunWhy, StepItemPage, StepItemsQuery } from './flow.types';

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

type Query = Record<string, string | undefined>;

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
  private readonly base: string;
  private readonly apiKey: string | undefined;
  private readonly fetchFn: FetchLike;

  constructor(options: WeftClientOptions) {
    this.base = options.url.replace(/\/+$/, '');
    this.apiKey = options.apiKey;
    this.fetchFn = options.fetch ?? globalThis.fetch;
  }

  readonly workflows = {
    create: (input: { name?: string; description?: string | null } & Partial<SpecInput>): Promise<Workflow> => this.json('POST', '/v1/workflows', input),
    list: (page: { limit?: number; cursor?: string } = {}): Promise<Page<Workflow>> =>
      this.json('GET', '/v1/workflows', undefined, { limit: page.limit?.toString(), cursor: page.cursor }),
    get: (ref: string): Promise<Workflow> => this.json('GET', `/v1/workflows/${enc(ref)}`),
    update: (ref: string, changes: { description: string | null }): Promise<Workflow> => this.json('PATCH', `/v1/workflows/${enc(ref)}`, changes),
    delete: async (ref: string): Promise<void> => {
      await this.call('DELETE', `/v1/workflows/${enc(ref)}`);
    },
    draft: (ref: string): Promise<Draft> => this.json('GET', `/v1/workflows/${enc(ref)}/draft`),
    /** With `ifRevision`, only when the draft is still at that revision (else WeftApiError 412 STALE_REVISION). */
    saveDraft: (ref: string, spec: SpecInput, options: { ifRevision?: number } = {}): Promise<Draft> =>
      this.json('PATCH', `/v1/workflows/${enc(ref)}/draft`, spec, {}, options.ifRevision === undefined ? {} : { 'If-Match': `"${options.ifRevision}"` }),
    /** Freezes the draft; `created: false` when an identical version existed. */
    freeze: async (ref: string): Promise<{ version: VersionDetail; created: boolean }> => {
      const response = await this.call('POST', `/v1/workflows/${enc(ref)}/versions`);
      return { version: (await response.json()) as VersionDetail, created: response.status === 201 };
    },
    versions: async (ref: string): Promise<Version[]> => (await this.json<{ items: Version[] }>('GET', `/v1/workflows/${enc(ref)}/versions`)).items,
    version: (ref: string, version: number): Promise<VersionDetail> => this.json('GET', `/v1/workflows/${enc(ref)}/versions/${version}`),
    publish: (ref: string, version: number): Promise<Workflow> => this.json('POST', `/v1/workflows/${enc(ref)}/versions/${version}/publish`),
    archive: (ref: string, version: number): Promise<Version> => this.json('POST', `/v1/workflows/${enc(ref)}/versions/${version}/archive`),
    /** Starts a run of the published (or a given) version; resolves at once. */
    start: (ref: string, request: WorkflowRunRequest = {}): Promise<RunAccepted> =>
      this.startRun(`/v1/workflows/${enc(ref)}/runs`, body(request, { version: request.version }), request.idempotencyKey),
    /** Starts a run and resolves with it once it ended. */
    execute: (ref: string, request: WorkflowRunRequest = {}): Promise<Run> =>
      this.runToEnd(`/v1/workflows/${enc(ref)}/runs`, body(request, { version: request.version }), request.idempotencyKey),
    /** Starts a run and streams it in the same request: the run, each lifecycle event, the finished run. */
    follow: (ref: string, request: WorkflowRunRequest = {}): AsyncGenerator<RunStreamEvent> =>
      this.sse('POST', `/v1/workflows/${enc(ref)}/runs`, body(request, { version: request.version }), { stream: 'true' }, request.idempotencyKey),
  };

  readonly runs = {
    /** Starts a run of a spec given here (ad hoc); resolves at once. */
    start: (spec: SpecInput, request: RunRequest = {}): Promise<RunAccepted> => this.startRun('/v1/runs/adhoc', body(request, spec), request.idempotencyKey),
    execute: (spec: SpecInput, request: RunRequest = {}): Promise<Run> => this.runToEnd('/v1/runs/adhoc', body(request, spec), request.idempotencyKey),
    /** Starts an ad-hoc run and streams it: the run, each lifecycle event, the finished run. */
    follow: (spec: SpecInput, request: RunRequest = {}): AsyncGenerator<RunStreamEvent> =>
      this.sse('POST', '/v1/runs/adhoc', body(request, spec), { stream: 'true' }, request.idempotencyKey),
    /** Streams an existing run from now until it ends. */
    stream: (runId: string): AsyncGenerator<RunStreamEvent> => this.sse('GET', `/v1/runs/${enc(runId)}/stream`),
    /** The run once it ended. */
    wait: async (runId: string): Promise<Run> => {
      for await (const event of this.runs.stream(runId)) if (event.type === 'end') return event.run;
      return this.runs.get(runId);
    },
    list: (query: RunListQuery = {}): Promise<Page<RunSummary>> =>
      this.json('GET', '/v1/runs', undefined, {
        workflow: query.workflow,
        status: query.status?.join(','),
        since: query.since,
        until: query.until,
        limit: query.limit?.toString(),
        cursor: query.cursor,
      }),
    get: (runId: string): Promise<Run> => this.json('GET', `/v1/runs/${enc(runId)}`),
    output: (runId: string): Promise<RunOutput> => this.json('GET', `/v1/runs/${enc(runId)}/output`),
    cancel: (runId: string, reason?: string): Promise<Run> => this.json('POST', `/v1/runs/${enc(runId)}/cancel`, reason === undefined ? {} : { reason }),
    resume: (runId: string): Promise<ResumeResult> => this.json('POST', `/v1/runs/${enc(runId)}/resume`),
    retry: (runId: string): Promise<Run> => this.json('POST', `/v1/runs/${enc(runId)}/retry`),
    /** For every unfinished step, the one reason it has not moved and since when. */
    why: (runId: string): Promise<RunWhy> => this.json('GET', `/v1/runs/${enc(runId)}/why`),
    /** A step's output (a large one, stored by reference, is fetched in full): GET /v1/runs/{id}/steps/{step}/output. */
    stepOutput: (runId: string, stepId: string): Promise<unknown> => this.json('GET', `/v1/runs/${enc(runId)}/steps/${enc(stepId)}/output`),
    /** The same as a Response whose body streams the output's JSON bytes (for outputs too big to parse at once). */
    stepOutputStream: (runId: string, stepId: string): Promise<Response> => this.call('GET', `/v1/runs/${enc(runId)}/steps/${enc(stepId)}/output`),
    /** A page of a forEach step's items, in index order. */
    items: (runId: string, stepId: string, query: StepItemsQuery = {}): Promise<StepItemPage> =>
      this.json('GET', `/v1/runs/${enc(runId)}/steps/${enc(stepId)}/items`, undefined, { offset: query.offset?.toString(), limit: query.limit?.toString(), status: query.status }),
    /** A new run that reuses the outputs of every step not downstream of `from`. */
    rerun: (runId: string, options: { from?: string; version?: number | 'published'; idempotencyKey?: string } = {}): Promise<RunAccepted> =>
      this.json('POST', `/v1/runs/${enc(runId)}/rerun`, options.version === undefined ? {} : { version: options.version }, { from: options.from }, idempotency(options.idempotencyKey)),
    // From the journal: RUN_NOT_FOUND until the run's first event is journaled, or once it was pruned.
    /** The readable story of the run: summary, steps with their attempts, one line per event (`weft history`). */
    history: (runId: string): Promise<RunHistory> => this.json('GET', `/v1/runs/${enc(runId)}/history`),
    /** The run's journal entries in decision order, filtered and paged: pass `nextCursor` as `cursor`. */
    events: (runId: string, query: RunEventsQuery = {}): Promise<Page<JournalEntry>> => this.json('GET', `/v1/runs/${enc(runId)}/events`, undefined, eventsQuery(query)),
    /** The checkpoints of the run's completed steps, in order. */
    checkpoints: (runId: string): Promise<Checkpoint[]> => this.json('GET', `/v1/runs/${enc(runId)}/checkpoints`),
    /** One step's checkpoint; WeftApiError CHECKPOINT_NOT_FOUND when the step did not complete. */
    checkpoint: (runId: string, stepId: string): Promise<Checkpoint> => this.json('GET', `/v1/runs/${enc(runId)}/checkpoints/${enc(stepId)}`),
    /** Everything the journal knows: the run folded from its events, steps, every event, checkpoints, notes. */
    reconstruct: (runId: string): Promise<RunReconstruction> => this.json('GET', `/v1/runs/${enc(runId)}/reconstruct`),
  };

  /** Figures from analytics over a window of whole hours, for the key's namespace. */
  readonly insights = {
    /** Runs, steps, the top hotspots, slowest and flakiest steps, the duration trend and the findings. */
    summary: (query: InsightsSummaryQuery = {}): Promise<InsightSummary> =>
      this.json('GET', '/v1/insights', undefined, { ...windowQuery(query), window: query.window?.toString() }),
    /** Steps with failures or retries, most failures first. */
    hotspots: (query: InsightsHotspotsQuery = {}): Promise<InsightHotspots> =>
      this.json('GET', '/v1/insights/hotspots', undefined, { ...windowQuery(query), limit: query.limit?.toString() }),
    /** The duration trend of completed runs, with its moving average. */
    trends: (query: InsightsTrendsQuery = {}): Promise<InsightTrend> =>
      this.json('GET', '/v1/insights/trends', undefined, { ...windowQuery(query), window: query.window?.toString(), granularity: query.granularity }),
    /** Every step's figures. */
    steps: (query: InsightsQuery = {}): Promise<InsightSteps> => this.json('GET', '/v1/insights/steps', undefined, windowQuery(query)),
  };

  readonly catalog = {
    actions: async (): Promise<CatalogAction[]> => (await this.json<{ items: CatalogAction[] }>('GET', '/v1/catalog/actions')).items,
    templates: async (): Promise<Template[]> => (await this.json<{ items: Template[] }>('GET', '/v1/catalog/templates')).items,
  };

  /** Triggers of the published versions (docs/triggers.md): the catalog, the fire log and the controls. */
  readonly triggers = {
    list: async (): Promise<TriggerSummary[]> => (await this.json<{ triggers: TriggerSummary[] }>('GET', '/v1/triggers')).triggers,
    fires: (workflow: string, trigger: string, query: { limit?: number; before?: string; outcome?: string } = {}): Promise<TriggerFirePage> =>
      this.json('GET', `/v1/triggers/${enc(workflow)}/${enc(trigger)}/fires`, undefined, {
        ...(query.limit !== undefined && { limit: String(query.limit) }),
        before: query.before,
        outcome: query.outcome,
      }),
    pause: (workflow: string, trigger: string): Promise<{ state: string }> => this.json('POST', `/v1/triggers/${enc(workflow)}/${enc(trigger)}/pause`, {}),
    resume: (workflow: string, trigger: string): Promise<{ state: string }> => this.json('POST', `/v1/triggers/${enc(workflow)}/${enc(trigger)}/resume`, {}),
    fire: (workflow: string, trigger: string, request: { inputs?: Record<string, unknown>; key?: string } = {}): Promise<TriggerOccurrence> =>
      this.json('POST', `/v1/triggers/${enc(workflow)}/${enc(trigger)}/fire`, request),
    backfill: (workflow: string, trigger: string, range: { from: string; to: string }): Promise<TriggerBackfill> =>
      this.json('POST', `/v1/triggers/${enc(workflow)}/${enc(trigger)}/backfill`, range),
    test: (workflow: string, trigger: string, sample: TriggersHttp.TestBodyInput = {}): Promise<TriggerTestResult> =>
      this.json('POST', `/v1/triggers/${enc(workflow)}/${enc(trigger)}/test`, sample),
  };

  /** Signals: outside events that `wait.event` steps wait for (docs/waits-and-reviews.md). */
  readonly signals = {
    /** Sends a signal; a repeated `id` answers the first one. */
    send: (signal: SignalRequest): Promise<Signal> => this.json('POST', '/v1/signals', signal),
    list: (query: SignalListQuery = {}): Promise<Page<Signal>> =>
      this.json('GET', '/v1/signals', undefined, { name: query.name, key: query.key, since: query.since, cursor: query.cursor, ...(query.limit !== undefined && { limit: String(query.limit) }) }),
  };

  /** Reviews: step outputs held for a person's decision (`review:`). */
  readonly reviews = {
    list: (query: ReviewListQuery = {}): Promise<Page<ReviewSummary>> =>
      this.json('GET', '/v1/reviews', undefined, {
        status: query.status,
        workflow: query.workflow,
        assignee: query.assignee,
        cursor: query.cursor,
        ...(query.limit !== undefined && { limit: String(query.limit) }),
      }),
    get: (id: string): Promise<Review> => this.json('GET', `/v1/reviews/${enc(id)}`),
    /** continue | correct (with payload) | retry | reject | escalate; WeftApiError 409 when decided before (its `decision`), 422 for a bad correction. */
    decide: (id: string, decision: DecisionRequest): Promise<DecisionResult> => this.json('POST', `/v1/reviews/${enc(id)}/decision`, decision),
  };

  /** The exception queue: open reviews and failed runs; resolve one with a note. */
  readonly exceptions = {
    list: (query: ExceptionQuery = {}): Promise<Page<ExceptionItem>> =>
      this.json('GET', '/v1/exceptions', undefined, {
        kind: query.kind,
        workflow: query.workflow,
        since: query.since,
        cursor: query.cursor,
        ...(query.resolved === true && { resolved: 'true' }),
        ...(query.limit !== undefined && { limit: String(query.limit) }),
      }),
    resolve: (kind: ExceptionKind, id: string, note: string): Promise<{ kind: ExceptionKind; id: string; resolved: true }> =>
      this.json('POST', `/v1/exceptions/${enc(kind)}/${enc(id)}/resolve`, { note }),
    /** Retry (failed runs; stuck runs are resumed), cancel or resolve (with a note) every open item the filter matches. */
    bulk: (filter: ExceptionFilter, action: 'retry' | 'cancel' | 'resolve', note?: string): Promise<BulkExceptionsResult> =>
      this.json('POST', '/v1/exceptions/bulk', { filter, action, ...(note !== undefined && { note }) }),
  };

  /** The namespace's audit log, oldest first (append-only). */
  audit(query: AuditQuery = {}): Promise<Page<AuditRecord>> {
    return this.json('GET', '/v1/audit', undefined, {
      target: query.target,
      actor: query.actor,
      action: query.action,
      since: query.since,
      cursor: query.cursor,
      ...(query.limit !== undefined && { limit: String(query.limit) }),
    });
  }

  readonly keys = {
    create: (request: { namespace?: string; name?: string } = {}): Promise<CreatedApiKey> => this.json('POST', '/v1/keys', request),
    list: async (): Promise<ApiKey[]> => (await this.json<{ items: ApiKey[] }>('GET', '/v1/keys')).items,
    revoke: (keyId: string): Promise<ApiKey> => this.json('DELETE', `/v1/keys/${enc(keyId)}`),
  };

  /** Journal entries across the caller's runs, oldest first, paged: pass `nextCursor` as `cursor`. */
  events(query: EventsQuery = {}): Promise<Page<JournalEntry>> {
    return this.json('GET', '/v1/events', undefined, { ...eventsQuery(query), workflow: query.workflow, runId: query.runId });
  }

  /** The diagnostics `weft validate` would print, from the server. */
  validate(spec: SpecInput): Promise<ValidationResult> {
    return this.json('POST', '/v1/validate', spec);
  }

  openapi(): Promise<Record<string, unknown>> {
    return this.json('GET', '/openapi.json');
  }

  private async startRun(path: string, payload: Record<string, unknown>, key: string | undefined): Promise<RunAccepted> {
    return this.json('POST', path, payload, { mode: 'async' }, idempotency(key));
  }

  private async runToEnd(path: string, payload: Record<string, unknown>, key: string | undefined): Promise<Run> {
    const response = await this.call('POST', path, payload, { mode: 'sync', wait: '10m' }, idempotency(key));
    if (response.status === 200) return (await response.json()) as Run;
    // Outlasted the server's wait: follow it to the end.
    return this.runs.wait(((await response.json()) as RunAccepted).runId);
  }

  private async *sse(method: string, path: string, payload?: unknown, query: Query = {}, key?: string): AsyncGenerator<RunStreamEvent> {
    const response = await this.call(method, path, payload, query, { Accept: 'text/event-stream', ...idempotency(key) });
    if (!response.body) throw new WeftConnectionError(`${method} ${path}: the stream has no body`);
    for await (const sse of readServerSentEvents(response.body)) {
      const data: unknown = JSON.parse(sse.data);
      if (sse.event === 'snapshot') yield { type: 'snapshot', run: data as Run };
      else if (sse.event === 'end') yield { type: 'end', run: data as Run };
      else if (sse.event === 'message') yield { type: 'event', event: data as LifecycleEvent };
    }
  }

  private async json<T>(method: string, path: string, payload?: unknown, query: Query = {}, headers: Record<string, string> = {}): Promise<T> {
    return (await (await this.call(method, path, payload, query, headers)).json()) as T;
  }

  /** One request; a problem document becomes WeftApiError. */
  private async call(method: string, path: string, payload?: unknown, query: Query = {}, headers: Record<string, string> = {}): Promise<Response> {
    const search = new URLSearchParams(Object.entries(query).filter((entry): entry is [string, string] => entry[1] !== undefined)).toString();
    const url = `${this.base}${path}${search ? `?${search}` : ''}`;
    let response: Response;
    try {
      response = await this.fetchFn(url, {
        method,
        headers: {
          Accept: 'application/json',
          ...(this.apiKey !== undefined && { Authorization: `Bearer ${this.apiKey}` }),
          ...(payload !== undefined && { 'Content-Type': 'application/json' }),
          ...headers,
        },
        ...(payload !== undefined && { body: JSON.stringify(payload) }),
      });
    } catch (error) {
      // fetch's own message ('fetch failed') says less than its cause (ECONNREFUSED ...).
      const reason = error instanceof Error ? (error.cause instanceof Error ? error.cause : error).message : String(error);
      throw new WeftConnectionError(`cannot reach the Weft API at ${this.base}: ${reason}`, { cause: error });
    }
    if (response.ok) return response;
    const type = response.headers.get('content-type') ?? '';
    if (type.includes('json')) throw new WeftApiError((await response.json()) as Problem);
    throw new WeftConnectionError(`${method} ${path}: HTTP ${response.status} from something that is not the Weft API (${type || 'no content type'})`);
  }
}

const enc = encodeURIComponent;

export type TriggerSummary = TriggersHttp.TriggerSummaryType;
export type TriggerFirePage = TriggersHttp.FirePageType;
export type TriggerOccurrence = TriggersHttp.OccurrenceResultType;
export type TriggerBackfill = TriggersHttp.BackfillResultType;
export type TriggerTestResult = TriggersHttp.TestResultType;
const idempotency = (key: string | undefined): Record<string, string> => (key === undefined ? {} : { 'Idempotency-Key': key });

function eventsQuery(query: RunEventsQuery): Query {
  return { type: query.type?.join(','), since: query.since, until: query.until, limit: query.limit?.toString(), after: query.cursor };
}

function windowQuery(query: InsightsQuery): Query {
  return { workflow: query.workflow, since: query.since, until: query.until };
}

function body(request: RunRequest, extra: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries({ ...extra, inputs: request.inputs, correlationId: request.correlationId })) if (value !== undefined) out[name] = value;
  return out;
}
