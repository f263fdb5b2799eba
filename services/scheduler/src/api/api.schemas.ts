import { MAX_NAME_LENGTH, parseDuration, RUN_STATUSES, STEP_STATUSES, WORKFLOW_NAME_PATTERN } from '@weft/core';
import { Actor, LifecycleEvent } from '@weft/contracts';
import { z } from 'zod';
import { ItemCounts } from './flow.schemas';

/**
 * Every request and response body of the API, once: the controllers validate with these
 * and the OpenAPI document (GET /openapi.json) is generated from them. No defaults or
 * transforms, so a schema reads the same as input and as output.
 */

/**
 * Every string of a request has a maximum length and every number a range (issue 12;
 * docs/api.md#limits lists them): what PostgreSQL would refuse (an index row above ~2.7 kB,
 * an integer above 2^31, a time outside its range) is refused here with a 400 first.
 */
export const API_LIMITS = {
  /** Workflow names and step ids (as in specs). */
  name: MAX_NAME_LENGTH,
  /** Ids in paths: a workflow (uuid or name), a run (uuid). */
  id: 200,
  /** API key ids (12 hex). */
  keyId: 64,
  description: 2_000,
  correlationId: 200,
  /** Idempotency-Key header. */
  idempotencyKey: 200,
  /** A label of a key. */
  keyName: 200,
  reason: 500,
  /** Pagination cursors this API gave out. */
  cursor: 500,
  /** A status filter (comma-separated). */
  statusList: 200,
  /** A time or duration in a query. */
  time: 40,
  /** A spec as text (also bounded by WEFT_API_BODY_LIMIT). */
  source: 1_000_000,
  /** Versions: 1 to this. */
  version: 1_000_000_000,
  /** mode=sync waits at most this (ms). */
  syncWaitMs: 600_000,
  /** How far back since/until may reach (ms): 100 years. */
  lookbackMs: 36_500 * 86_400_000,
} as const;

/** `30s`, `500ms`, `2m`: at most `maxMs`. */
const durationUpTo = (maxMs: number, what: string) =>
  z
    .string()
    .max(API_LIMITS.time)
    .regex(/^\d+(ms|s|m)$/, 'expected a duration such as 30s')
    .refine((text) => {
      try {
        return parseDuration(text) <= maxMs;
      } catch {
        return false; // not a duration (the regex says so) or beyond Number's safe range
      }
    }, `${what} is at most ${maxMs / 1000}s`);

/** An ISO 8601 time, or a duration back from now (`24h`), within 100 years. */
const TimeOrDuration = z
  .string()
  .max(API_LIMITS.time)
  .refine((text) => {
    if (/^(\d+(ms|s|m|h|d))+$/.test(text)) {
      try {
        return parseDuration(text) <= API_LIMITS.lookbackMs;
      } catch {
        return false;
      }
    }
    const time = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN;
    return Number.isFinite(time);
  }, 'expected an ISO 8601 time or a duration back from now of at most 36500d, such as 24h');

/** A workflow spec v1 object; documented as the published spec schema (components.schemas.WorkflowSpec). */
export const SpecObject = z.unknown().describe('A workflow spec v1 (see WorkflowSpec).');

const Name = z.string().max(API_LIMITS.name).regex(new RegExp(WORKFLOW_NAME_PATTERN), 'expected a kebab-case name such as data-pipeline');
const Time = z.string().describe('ISO 8601 time');
const NullableTime = Time.nullable();
const Inputs = z.record(z.string(), z.unknown()).describe('Workflow inputs by name; defaults apply to the ones left out.');
const ErrorSummary = z.object({ code: z.string(), message: z.string() });

const specOrSource = {
  spec: SpecObject.optional(),
  source: z.string().max(API_LIMITS.source).optional().describe('The text of a YAML or JSON workflow file; diagnostics then carry its lines.'),
};
const oneSpec = (value: { spec?: unknown; source?: string }): boolean => (value.spec === undefined) !== (value.source === undefined);
const ONE_SPEC = { message: 'give either spec or source (exactly one)', path: ['spec'] };

// ---- requests

export const SpecBody = z.object(specOrSource).strict().refine(oneSpec, ONE_SPEC);

export const CreateWorkflowBody = z
  .object({
    name: Name.optional().describe('Required without a spec; with one, the spec names the workflow.'),
    description: z.string().max(API_LIMITS.description).nullable().optional(),
    ...specOrSource,
  })
  .strict()
  .refine((b) => b.spec === undefined || b.source === undefined, ONE_SPEC);

export const UpdateWorkflowBody = z.object({ description: z.string().max(API_LIMITS.description).nullable() }).strict();

export const StartRunBody = z
  .object({
    inputs: Inputs.optional(),
    version: z.number().int().min(1).max(API_LIMITS.version).optional().describe('A stored version to run; default: the published one.'),
    correlationId: z.string().min(1).max(API_LIMITS.correlationId).optional(),
  })
  .strict();

export const AdhocRunBody = z
  .object({ ...specOrSource, inputs: Inputs.optional(), correlationId: z.string().min(1).max(API_LIMITS.correlationId).optional() })
  .strict()
  .refine(oneSpec, ONE_SPEC);

export const RerunBody = z
  .object({
    version: z
      .union([z.number().int().min(1).max(API_LIMITS.version), z.literal('published')])
      .optional()
      .describe('Run a stored version of the workflow (or the published one) instead of the spec the old run had.'),
  })
  .strict();

export const CancelBody = z.object({ reason: z.string().min(1).max(API_LIMITS.reason).optional() }).strict();

export const CreateKeyBody = z
  .object({
    namespace: Name.optional().describe('Default: the caller\'s namespace.'),
    name: z.string().min(1).max(API_LIMITS.keyName).optional().describe('A label for people.'),
  })
  .strict();

// ---- query strings and paths (strings on the wire)

const Flag = z.enum(['true', 'false']);
export const RunCreationQuery = z
  .object({
    mode: z.enum(['async', 'sync']).optional().describe('async (default): 202 at once; sync: wait for the end and answer with the run.'),
    stream: Flag.optional().describe('true: answer with Server-Sent Events of the run until it ends.'),
    wait: durationUpTo(API_LIMITS.syncWaitMs, 'wait').optional().describe('How long mode=sync waits (default 60s, at most 10m).'),
  })
  .strict();
export const RerunQuery = RunCreationQuery.extend({ from: z.string().min(1).max(API_LIMITS.name).optional().describe('The step to rerun from; default: every step.') }).strict();

export const ListRunsQuery = z
  .object({
    workflow: z.string().min(1).max(API_LIMITS.name).optional(),
    status: z.string().max(API_LIMITS.statusList).optional().describe(`Comma-separated: ${RUN_STATUSES.join(', ')}`),
    since: TimeOrDuration.optional().describe('Created at or after: ISO 8601, or a duration back from now (24h, at most 36500d).'),
    until: TimeOrDuration.optional().describe('Created before: ISO 8601, or a duration back from now.'),
    correlationId: z.string().min(1).max(API_LIMITS.correlationId).optional().describe('Exactly this correlation id (the one given when the run was started).'),
    prefix: z.string().min(1).max(API_LIMITS.correlationId).optional().describe('The run id or the correlation id starts with this (case-sensitive; % and _ are literal).'),
    limit: z.string().regex(/^\d{1,4}$/).optional().describe('1-200, default 50.'),
    cursor: z.string().max(API_LIMITS.cursor).optional().describe('nextCursor of the previous page.'),
  })
  .strict();

export const PageQuery = z
  .object({
    limit: z.string().regex(/^\d{1,4}$/).optional().describe('1-200, default 50.'),
    cursor: z.string().max(API_LIMITS.cursor).optional().describe('nextCursor of the previous page.'),
  })
  .strict();

const PathId = z.string().min(1).max(API_LIMITS.id);
export const IdPath = z.object({ id: PathId });
export const VersionPath = z.object({
  id: PathId,
  version: z
    .string()
    .regex(/^[1-9]\d{0,9}$/, 'expected a version number')
    .refine((v) => Number(v) <= API_LIMITS.version, `versions are 1 to ${API_LIMITS.version}`),
});
export const KeyPath = z.object({ keyId: z.string().min(1).max(API_LIMITS.keyId) });

// ---- responses

export const Workflow = z.object({
  id: z.string(),
  namespace: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  draftRevision: z.number().int(),
  hasDraft: z.boolean(),
  publishedVersion: z.number().int().nullable(),
  latestVersion: z.number().int().nullable(),
  createdAt: Time,
  updatedAt: Time,
});
export const WorkflowPage = z.object({ items: z.array(Workflow), nextCursor: z.string().nullable() });
export const Draft = z.object({ workflowId: z.string(), workflow: z.string(), revision: z.number().int(), spec: SpecObject.nullable(), updatedAt: Time });
export const Version = z.object({
  workflowId: z.string(),
  workflow: z.string(),
  version: z.number().int(),
  hash: z.string().describe('sha256 of the canonical JSON of the spec'),
  archived: z.boolean(),
  published: z.boolean(),
  createdAt: Time,
});
export const VersionDetail = Version.extend({ spec: SpecObject });
export const VersionList = z.object({ items: z.array(Version) });

export const Step = z.object({
  id: z.string(),
  status: z.enum(STEP_STATUSES),
  attempts: z.number().int(),
  startedAt: NullableTime,
  finishedAt: NullableTime,
  durationMs: z.number().nullable(),
  output: z.unknown(),
  error: ErrorSummary.nullable(),
  reusedFrom: z.string().nullable().describe('The run whose output this step reused (rerun).'),
  items: ItemCounts.optional().describe('A forEach step: how its items stand (each item: GET /v1/runs/{id}/steps/{stepId}/items).'),
  wait: z
    .discriminatedUnion('kind', [
      z.object({ kind: z.literal('sleep'), until: Time }),
      z.object({ kind: z.literal('event'), event: z.string(), key: z.string().nullable(), expiresAt: Time }),
      z.object({ kind: z.literal('review'), reviewId: z.string(), tier: z.number().int(), assignees: z.array(z.string()), deadlineAt: NullableTime, overdue: z.boolean() }),
      z.object({ kind: z.literal('slot'), key: z.string(), limit: z.number().int() }),
      z.object({ kind: z.literal('rate'), key: z.string(), until: NullableTime }),
      z.object({ kind: z.literal('child'), childRunId: z.string(), workflow: z.string() }),
    ])
    .optional()
    .describe('While the step is waiting: what for (sleep, event, review, slot, rate, child).'),
  review: z
    .object({ reviewId: z.string(), decision: z.string(), actor: Actor, at: Time, comment: z.string().nullable() })
    .optional()
    .describe('The last review decision on the step (continue, correct, reject) and who made it: the API key or local.'),
});
export const RunSummary = z.object({
  runId: z.string(),
  workflow: z.string(),
  version: z.string().describe('The stored version the run ran, or adhoc.'),
  status: z.enum(RUN_STATUSES),
  createdAt: Time,
  startedAt: NullableTime,
  finishedAt: NullableTime,
  durationMs: z.number().nullable(),
  error: ErrorSummary.nullable(),
  correlationId: z.string().nullable(),
});
export const Run = RunSummary.extend({
  namespace: z.string(),
  inputs: Inputs,
  outputs: z.record(z.string(), z.unknown()).nullable(),
  rerunOf: z.object({ runId: z.string(), fromStep: z.string().nullable() }).nullable(),
  reruns: z
    .array(z.object({ runId: z.string(), fromStep: z.string().nullable(), createdAt: Time }))
    .describe('Runs re-run from this one (the newest 50), oldest first: the forward side of rerunOf.'),
  source: z.string().nullable().describe('Who asked for the run: api, cli, trigger:<id>, rerun:<runId>, parent:<runId> (null for runs older than the field).'),
  actor: z
    .union([z.object({ keyId: z.string(), name: z.string() }), z.literal('local')])
    .nullable()
    .describe('The API key (id and name) or `local` caller that started the run; null for runs no caller started (triggers, signals, child runs) and older runs.'),
  parentRunId: z.string().nullable().describe('A child run (action: workflow): the run whose step started it.'),
  children: z
    .array(z.object({ stepId: z.string(), attempt: z.number().int(), runId: z.string() }))
    .describe('Child runs its workflow steps started (one per attempt), in step order.'),
  steps: z.array(Step),
  spec: SpecObject,
});
export const StepPath = z.object({ id: PathId, step: z.string().min(1).max(API_LIMITS.id) }).strict();
export const StepInput = z.object({
  runId: z.string(),
  stepId: z.string(),
  action: z.string(),
  with: z.record(z.string(), z.unknown()).describe('The step\'s with: as written (expressions unresolved).'),
  input: z.record(z.string(), z.unknown()).nullable().describe('What its action was given (for transform: { value }); null when reason says why there is none.'),
  reason: z.string().nullable().describe('Why there is no input: not dispatched yet, skipped, forEach (each item has its own), reused by a re-run, or the expression error.'),
});
export const RunPage = z.object({ items: z.array(RunSummary), nextCursor: z.string().nullable() });
export const RunAccepted = z.object({
  runId: z.string(),
  status: z.enum(RUN_STATUSES),
  created: z.boolean().describe('false: the Idempotency-Key named an existing run, which this is.'),
  location: z.string(),
});
export const RunOutput = z.object({ runId: z.string(), status: z.enum(RUN_STATUSES), outputs: z.record(z.string(), z.unknown()).nullable(), error: ErrorSummary.nullable() });
export const ResumeResult = z.object({
  run: Run,
  redispatched: z.array(z.string()).describe('Steps in flight that were dispatched again.'),
  flushed: z.array(z.string()).describe('Steps waiting for a retry that were dispatched now.'),
});

export const Diagnostic = z.object({
  path: z.string(),
  message: z.string(),
  code: z.string(),
  severity: z.enum(['error', 'warning']),
  line: z.number().int().optional(),
  col: z.number().int().optional(),
  hint: z.string().optional(),
});
export const ValidationResult = z.object({ valid: z.boolean(), name: z.string().nullable(), diagnostics: z.array(Diagnostic) });

export const CatalogAction = z.object({
  name: z.string(),
  description: z.string().nullable(),
  inputSchema: z.record(z.string(), z.unknown()).nullable(),
  builtin: z.boolean(),
  workers: z.number().int().describe('Live workers that announced it.'),
  queues: z.array(z.string()),
});
export const ActionCatalog = z.object({ items: z.array(CatalogAction) });
export const Template = z.object({ name: z.string(), description: z.string(), spec: SpecObject });
export const TemplateCatalog = z.object({ items: z.array(Template) });

export const ApiKey = z.object({ keyId: z.string(), namespace: z.string(), name: z.string().nullable(), createdAt: Time, revokedAt: NullableTime });
export const CreatedApiKey = ApiKey.extend({ key: z.string().describe('The key itself: shown once, stored only as a hash.') });
export const ApiKeyList = z.object({ items: z.array(ApiKey) });

export const Problem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  instance: z.string().optional(),
  code: z.string().describe('Stable, machine-readable.'),
  errors: z
    .array(
      z.object({
        path: z.string(),
        message: z.string(),
        code: z.string().optional(),
        line: z.number().int().optional(),
        col: z.number().int().optional(),
        hint: z.string().optional(),
      }),
    )
    .optional(),
});

/** A lifecycle event, as the stream sends it (the `weft.event.<type>` contract). */
export const RunEvent = LifecycleEvent;

export type WorkflowView = z.infer<typeof Workflow>;
export type WorkflowPageView = z.infer<typeof WorkflowPage>;
export type DraftView = z.infer<typeof Draft>;
export type VersionView = z.infer<typeof Version>;
export type VersionDetailView = z.infer<typeof VersionDetail>;
export type StepView = z.infer<typeof Step>;
export type ItemCountsView = z.infer<typeof ItemCounts>;
export type RunSummaryView = z.infer<typeof RunSummary>;
export type RunView = z.infer<typeof Run>;
/** `GET /v1/runs/{id}/steps/{step}/input`: a step's with: as written and as evaluated. */
export type StepInputView = z.infer<typeof StepInput>;
export type RunPageView = z.infer<typeof RunPage>;
export type RunAcceptedView = z.infer<typeof RunAccepted>;
export type RunOutputView = z.infer<typeof RunOutput>;
export type ResumeResultView = z.infer<typeof ResumeResult>;
export type ValidationResultView = z.infer<typeof ValidationResult>;
export type CatalogActionView = z.infer<typeof CatalogAction>;
export type TemplateView = z.infer<typeof Template>;
export type ApiKeyView = z.infer<typeof ApiKey>;
export type CreatedApiKeyView = z.infer<typeof CreatedApiKey>;
