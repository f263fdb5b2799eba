import { z } from 'zod';
import { Triggers } from './triggers.schema';

/**
 * Workflow spec v1: the single source of the validator, the TypeScript types and
 * the published JSON Schema (`weft schema`). Field names are a public contract.
 */

export const API_VERSION = 'weft/v1';

/** What an omitted field means. The engine applies these; the docs and JSON Schema quote them. */
export const SPEC_DEFAULTS = {
  stepTimeout: '10m',
  queue: 'default',
  onFailure: 'fail-fast',
  retry: { maxAttempts: 1, backoff: 'exponential', initialInterval: '1s', maxInterval: '1m', multiplier: 2, jitter: true },
  review: { onDeadline: 'reject' },
  waitEvent: { lookback: '0s' },
} as const;

/** `500ms`, `30s`, `5m`, `2h`, `1d` and combinations such as `1h30m`. */
export const DURATION_PATTERN = '^(\\d+(ms|s|m|h|d))+$';

export const Duration = z
  .string()
  .regex(new RegExp(DURATION_PATTERN), { message: 'expected a duration such as 500ms, 30s, 5m, 2h or 1h30m' })
  .describe('A duration: digits followed by ms, s, m, h or d; parts may be combined (1h30m).');

/** Step ids are CEL identifiers so that `steps.<id>.output` parses. */
export const STEP_ID_PATTERN = '^[A-Za-z_][A-Za-z0-9_]*$';
export const WORKFLOW_NAME_PATTERN = '^[a-z][a-z0-9]*(-[a-z0-9]+)*$';
export const QUEUE_PATTERN = '^[a-z0-9][a-z0-9_-]*$';

const QueueName = z
  .string()
  .regex(new RegExp(QUEUE_PATTERN), { message: 'queue names are lower-case letters, digits, _ and -, e.g. gpu-jobs' });

/** Longest workflow name, step id, input or output name (issue 12: every string has a maximum). */
export const MAX_NAME_LENGTH = 100;

/** Longest `description` of a workflow or an input (issue 12). */
export const MAX_DESCRIPTION_LENGTH = 2_000;

/**
 * Longest JSON text of one `with` value (64 KiB; issue 12): a spec is configuration, and every step's
 * `with` is rendered on each dispatch. Data belongs in inputs and outputs (stored by reference when large).
 */
export const MAX_WITH_VALUE_CHARS = 65_536;

const WithValue = z.unknown().superRefine((value, ctx) => {
  const json = JSON.stringify(value);
  if (json !== undefined && json.length > MAX_WITH_VALUE_CHARS) {
    ctx.addIssue({ code: 'too_big', origin: 'string', maximum: MAX_WITH_VALUE_CHARS, inclusive: true, input: value, message: `a with value is at most ${MAX_WITH_VALUE_CHARS} characters of JSON (this one has ${json.length}): pass data through inputs or a step's output` });
  }
});

const Identifier = (what: string) =>
  z
    .string()
    .max(MAX_NAME_LENGTH, { message: `${what} are at most ${MAX_NAME_LENGTH} characters` })
    .regex(new RegExp(STEP_ID_PATTERN), { message: `${what} are identifiers: letters, digits and _, not starting with a digit` });

export const OnFailure = z
  .enum(['fail-fast', 'continue'])
  .describe('fail-fast cancels the rest and fails the run; continue lets independent branches finish (run ends partially_completed).');

export const RetryPolicy = z
  .object({
    maxAttempts: z.number().int().min(1).max(1000).optional().describe('Total attempts including the first. @default 1'),
    backoff: z.enum(['fixed', 'exponential']).optional().describe('@default exponential'),
    initialInterval: Duration.optional().describe('Delay before the second attempt. @default 1s'),
    maxInterval: Duration.optional().describe('Upper bound of any delay. @default 1m'),
    multiplier: z.number().min(1).max(100).optional().describe('Growth factor for exponential backoff. @default 2'),
    jitter: z.boolean().optional().describe('Spread delays by up to ±20% (deterministic per run, step and attempt). @default true'),
    nonRetryable: z.array(z.string().min(1)).optional().describe('Error codes that are never retried.'),
  })
  .strict();

export const InputType = z.enum(['string', 'integer', 'number', 'boolean', 'object', 'array']);

export const InputDecl = z
  .object({
    type: InputType.describe('JSON type of the input.'),
    default: z.unknown().optional().describe('Value used when the input is not given.'),
    required: z.boolean().optional().describe('A run without this input (and without a default) is rejected. @default false'),
    description: z.string().max(MAX_DESCRIPTION_LENGTH).optional(),
  })
  .strict();

export const Defaults = z
  .object({
    timeout: Duration.optional().describe('Per-attempt timeout of every step. @default 10m'),
    retry: RetryPolicy.optional().describe('How failed attempts are retried; a step with its own retry replaces this as a whole.'),
    queue: QueueName.optional().describe('Task queue steps are dispatched to. @default default'),
  })
  .strict();

/** Names of people or groups a review is for (recorded and filterable; Weft does not resolve them). */
const Assignees = z.array(z.string().min(1).max(200)).max(50);

export const ReviewEscalation = z
  .object({
    after: Duration.describe('When this tier takes over, counted from the review\'s opening.'),
    assignees: Assignees.min(1).describe('Who the review is for from then on.'),
  })
  .strict();

export const Review = z
  .object({
    when: z
      .string()
      .min(1)
      .optional()
      .describe('CEL condition over `output` (bare or ${{ }}); the output is held for review only when it holds. @default always'),
    title: z.string().min(1).max(500).optional().describe('What the reviewer sees first; ${{ }} templates may read `output`. @default Review step <id>'),
    instructions: z.string().max(10_000).optional().describe('How to decide; ${{ }} templates may read `output`.'),
    assignees: Assignees.optional().describe('Who the review is for (recorded and filterable).'),
    form: z
      .record(z.string(), z.unknown())
      .optional()
      .describe('JSON Schema of a correction: a `correct` decision\'s payload must satisfy it (it then replaces the output).'),
    deadline: Duration.optional().describe('How long the review may stay open; then onDeadline applies. @default none'),
    escalation: z.array(ReviewEscalation).max(10).optional().describe('Tiers that take over after their `after`, in order.'),
    onDeadline: z.enum(['reject', 'continue', 'escalate']).optional().describe('What the deadline does: reject the output, let it stand, or escalate to the next tier. @default reject'),
  })
  .strict();

/** A concurrency limit (a step's or a workflow's): the same fields, described for each. A fresh schema per call. */
const concurrencyLimit = (describe: { limit: string; key: string; strategy: string }) =>
  z
    .object({
      limit: z.number().int().min(1).max(10_000).describe(describe.limit),
      key: z.string().min(1).max(1_000).optional().describe(describe.key),
      strategy: z.enum(['queue', 'cancel-in-progress', 'cancel-newest']).optional().describe(describe.strategy),
    })
    .strict();

/** A step's concurrency limit across runs: slots are leases the scheduler grants per key. */
export const StepConcurrency = concurrencyLimit({
  limit: 'Attempts of this step holding a slot at most, per key, across every run.',
  key: 'A ${{ }} template naming the key (e.g. ${{ inputs.customerId }}); each key has its own limit. @default one key for the step',
  strategy:
    'What happens to work over the limit: queue waits for a slot (round-robin across keys, by priority within a key); cancel-in-progress fails the oldest attempt holding one (CONCURRENCY_CANCELED); cancel-newest fails the new attempt. @default queue',
});

/** A workflow's concurrency limit: runs holding a slot of their key at most, across the namespace. */
export const WorkflowConcurrency = concurrencyLimit({
  limit: 'Runs of this workflow in progress at most, per key.',
  key: 'A ${{ }} template over `inputs` naming the key (e.g. ${{ inputs.customerId }}); each key has its own limit. @default one key for the workflow',
  strategy: 'A run over the limit: queue waits for a slot (round-robin across keys); cancel-in-progress cancels the oldest run holding one; cancel-newest cancels the new run. @default queue',
});

/** A step's rate limit across runs (GCRA): starts of its attempts are spaced so that at most `limit` begin per `period`, per key. */
export const StepRateLimit = z
  .object({
    limit: z.number().int().min(1).max(1_000_000).describe('Attempts of this step that may start per period, per key, across every run.'),
    period: Duration.refine((d) => /[1-9]/.test(d), { message: 'must be longer than 0' }).describe('The window the limit counts over (e.g. 1s, 1m, 1h).'),
    key: z.string().min(1).max(1_000).optional().describe('A ${{ }} template naming the key (e.g. ${{ inputs.customerId }}); each key has its own limit. @default one key for the step'),
    burst: z
      .number()
      .int()
      .min(1)
      .max(1_000_000)
      .optional()
      .describe('Starts that may go at once after an idle time; 1 spaces every start period/limit apart. Never more than limit + burst - 1 start in any window of one period. @default 1'),
  })
  .strict();

export const Step = z
  .object({
    id: Identifier('step ids').describe('Unique within the workflow; a CEL identifier so that steps.<id>.output parses.'),
    name: z.string().optional().describe('Human-readable label.'),
    needs: z.array(z.string()).optional().describe('Steps that must complete before this one starts.'),
    action: z
      .string()
      .min(1)
      .describe('Built-in action (noop, sleep, wait.event, fail, transform, log, http.request) or one registered by a worker. sleep and wait.event are durable waits the scheduler holds.'),
    with: z.record(z.string(), WithValue).optional().describe(`Input of the action; strings may hold ${'${{ CEL }}'} expressions. Each value is at most ${MAX_WITH_VALUE_CHARS} characters of JSON.`),
    if: z.string().min(1).optional().describe('CEL condition (bare or ${{ }}); false skips the step and its dependents.'),
    timeout: Duration.optional().describe('Per-attempt timeout. @default defaults.timeout, else 10m'),
    retry: RetryPolicy.optional().describe('Replaces defaults.retry as a whole for this step.'),
    queue: QueueName.optional().describe('Task queue this step is dispatched to. @default defaults.queue, else default'),
    onFailure: OnFailure.optional().describe('What a failure of this step does to the run. @default the workflow onFailure'),
    review: Review.optional().describe(
      'Holds the output of the action for a person\'s decision (continue, correct, retry, reject, escalate) before any dependent sees it. With noop it is an approval gate.',
    ),
    forEach: z
      .string()
      .min(1)
      .max(10_000)
      .optional()
      .describe(
        'CEL (bare or ${{ }}) yielding a list, evaluated when the step is ready: the action runs once per item, with `item` and `index` in scope of `with`; the output is the list of item outputs in order. onFailure, retry and timeout apply per item (docs/flow-control.md).',
      ),
    concurrency: z
      .union([
        z.number().int().min(1).max(10_000).describe('forEach only: items in flight at most (in this run). @default 10'),
        StepConcurrency,
      ])
      .optional()
      .describe('A number: forEach items in flight at most in this run. An object: attempts of this step in flight at most across all runs, per key (docs/flow-control.md).'),
    priority: z.number().int().min(1).max(5).optional().describe('Order among queued attempts of the same concurrency key: 1 goes first. @default 3'),
    rateLimit: StepRateLimit.optional().describe(
      'Starts of this step\'s attempts (each item, on a forEach step) at most `limit` per `period`, per key, across all runs; work over the limit waits, nothing is dropped (docs/flow-control.md).',
    ),
  })
  .strict();

export const WorkflowSpec = z
  .object({
    apiVersion: z.literal(API_VERSION).describe('Version of the spec format.'),
    kind: z.literal('Workflow'),
    name: z
      .string()
      .max(MAX_NAME_LENGTH, { message: `workflow names are at most ${MAX_NAME_LENGTH} characters` })
      .regex(new RegExp(WORKFLOW_NAME_PATTERN), { message: 'workflow names are kebab-case, e.g. data-pipeline' })
      .describe('Kebab-case name; runs and versions are registered under it.'),
    description: z.string().max(MAX_DESCRIPTION_LENGTH).optional(),
    inputs: z
      .record(Identifier('input names'), InputDecl)
      .optional()
      .describe('Parameters of a run, read as inputs.<name> in expressions.'),
    defaults: Defaults.optional().describe('Values every step inherits unless it sets its own.'),
    timeout: Duration.optional().describe('Whole-run timeout; when it passes the run fails and in-flight steps are canceled.'),
    onFailure: OnFailure.optional().describe('@default fail-fast'),
    concurrency: WorkflowConcurrency.optional().describe('Runs of this workflow in progress at most, per key, across all its runs of the namespace (docs/flow-control.md).'),
    maxStepsInFlight: z
      .number()
      .int()
      .min(1)
      .max(10_000)
      .optional()
      .describe(
        "Steps of one run dispatched and unfinished at most (queued, running, retrying, or waiting for a concurrency slot or rate permit); ready steps beyond it wait, pending, and go in plan order as earlier ones finish (docs/flow-control.md). A forEach step counts once. @default 64",
      ),
    steps: z.array(Step).min(1, { message: 'a workflow needs at least one step' }).describe('The DAG: each step runs once all its needs completed.'),
    outputs: z.record(z.string(), z.unknown()).optional().describe('Run outputs; strings may hold ${{ CEL }} expressions.'),
    triggers: Triggers.optional(),
  })
  .strict();

export type Duration = z.infer<typeof Duration>;
export type RetryPolicy = z.infer<typeof RetryPolicy>;
export type InputDecl = z.infer<typeof InputDecl>;
export type InputType = z.infer<typeof InputType>;
export type OnFailure = z.infer<typeof OnFailure>;
export type StepSpec = z.infer<typeof Step>;
export type ReviewSpec = z.infer<typeof Review>;
export type WorkflowSpec = z.infer<typeof WorkflowSpec>;
