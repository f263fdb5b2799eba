import { RUN_STATUSES, STEP_STATUSES, WORKFLOW_NAME_PATTERN } from '@weft/core';
import { LifecycleEvent } from '@weft/contracts';
import { z } from 'zod';

/**
 * Every request and response body of the API, once: the controllers validate with these
 * and the OpenAPI document (GET /openapi.json) is generated from them. No defaults or
 * transforms, so a schema reads the same as input and as output.
 */

/** A workflow spec v1 object; documented as the published spec schema (components.schemas.WorkflowSpec). */
export const SpecObject = z.unknown().describe('A workflow spec v1 (see WorkflowSpec).');

const Name = z.string().regex(new RegExp(WORKFLOW_NAME_PATTERN), 'expected a kebab-case name such as data-pipeline');
const Time = z.string().describe('ISO 8601 time');
const NullableTime = Time.nullable();
const Inputs = z.record(z.string(), z.unknown()).describe('Workflow inputs by name; defaults apply to the ones left out.');
const ErrorSummary = z.object({ code: z.string(), message: z.string() });

const specOrSource = {
  spec: SpecObject.optional(),
  source: z.string().optional().describe('The text of a YAML or JSON workflow file; diagnostics then carry its lines.'),
};
const oneSpec = (value: { spec?: unknown; source?: string }): boolean => (value.spec === undefined) !== (value.source === undefined);
const ONE_SPEC = { message: 'give either spec or source (exactly one)', path: ['spec'] };

// ---- requests

export const SpecBody = z.object(specOrSource).strict().refine(oneSpec, ONE_SPEC);

export const CreateWorkflowBody = z
  .object({
    name: Name.optional().describe('Required without a spec; with one, the spec names the workflow.'),
    description: z.string().nullable().optional(),
    ...specOrSource,
  })
  .strict()
  .refine((b) => b.spec === undefined || b.source === undefined, ONE_SPEC);

export const UpdateWorkflowBody = z.object({ description: z.string().nullable() }).strict();

export const StartRunBody = z
  .object({
    inputs: Inputs.optional(),
    version: z.number().int().positive().optional().describe('A stored version to run; default: the published one.'),
    correlationId: z.string().min(1).optional(),
  })
  .strict();

export const AdhocRunBody = z
  .object({ ...specOrSource, inputs: Inputs.optional(), correlationId: z.string().min(1).optional() })
  .strict()
  .refine(oneSpec, ONE_SPEC);

export const RerunBody = z
  .object({
    version: z
      .union([z.number().int().positive(), z.literal('published')])
      .optional()
      .describe('Run a stored version of the workflow (or the published one) instead of the spec the old run had.'),
  })
  .strict();

export const CancelBody = z.object({ reason: z.string().min(1).max(500).optional() }).strict();

export const CreateKeyBody = z
  .object({
    namespace: Name.optional().describe('Default: the caller\'s namespace.'),
    name: z.string().min(1).max(200).optional().describe('A label for people.'),
  })
  .strict();

// ---- query strings and paths (strings on the wire)

const Flag = z.enum(['true', 'false']);
export const RunCreationQuery = z
  .object({
    mode: z.enum(['async', 'sync']).optional().describe('async (default): 202 at once; sync: wait for the end and answer with the run.'),
    stream: Flag.optional().describe('true: answer with Server-Sent Events of the run until it ends.'),
    wait: z.string().regex(/^\d+(ms|s|m)$/, 'expected a duration such as 30s').optional().describe('How long mode=sync waits (default 60s, at most 10m).'),
  })
  .strict();
export const RerunQuery = RunCreationQuery.extend({ from: z.string().min(1).optional().describe('The step to rerun from; default: every step.') }).strict();

export const ListRunsQuery = z
  .object({
    workflow: z.string().min(1).optional(),
    status: z.string().optional().describe(`Comma-separated: ${RUN_STATUSES.join(', ')}`),
    since: z.string().optional().describe('Created at or after: ISO 8601, or a duration back from now (24h).'),
    until: z.string().optional().describe('Created before: ISO 8601, or a duration back from now.'),
    limit: z.string().regex(/^\d+$/).optional().describe('1-200, default 50.'),
    cursor: z.string().optional().describe('nextCursor of the previous page.'),
  })
  .strict();

export const PageQuery = z
  .object({ limit: z.string().regex(/^\d+$/).optional().describe('1-200, default 50.'), cursor: z.string().optional().describe('nextCursor of the previous page.') })
  .strict();

export const IdPath = z.object({ id: z.string().min(1) });
export const VersionPath = z.object({ id: z.string().min(1), version: z.string().regex(/^[1-9]\d*$/, 'expected a version number') });
export const KeyPath = z.object({ keyId: z.string().min(1) });

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
  steps: z.array(Step),
  spec: SpecObject,
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
export type RunSummaryView = z.infer<typeof RunSummary>;
export type RunView = z.infer<typeof Run>;
export type RunPageView = z.infer<typeof RunPage>;
export type RunAcceptedView = z.infer<typeof RunAccepted>;
export type RunOutputView = z.infer<typeof RunOutput>;
export type ResumeResultView = z.infer<typeof ResumeResult>;
export type ValidationResultView = z.infer<typeof ValidationResult>;
export type CatalogActionView = z.infer<typeof CatalogAction>;
export type TemplateView = z.infer<typeof Template>;
export type ApiKeyView = z.infer<typeof ApiKey>;
export type CreatedApiKeyView = z.infer<typeof CreatedApiKey>;
