import { z } from 'zod';
import { queryEnum, queryInteger } from './query';
import { problemResponse as problem, type RouteSpec } from './route';

/**
 * The triggers service's HTTP API (`/v1/triggers...` behind API keys, `/v1/hooks/...` signed
 * by the sender), once: the service validates its bodies with these and the scheduler's
 * OpenAPI document is built from them. Times are ISO 8601.
 */

const Time = z.string().describe('ISO 8601 time');
export const FIRE_OUTCOME_VALUES = ['fired', 'skipped', 'missed', 'filtered', 'duplicate', 'refused', 'failed'] as const;
const Outcome = z.enum(FIRE_OUTCOME_VALUES);

// ---- paths, queries and bodies

export const TriggerPath = z.object({ workflow: z.string().min(1).max(200), trigger: z.string().min(1).max(64) });
export const HookPath = z.object({ namespace: z.string().min(1).max(200), workflow: z.string().min(1).max(200), trigger: z.string().min(1).max(64) });

export const FiresQuery = z.object({
  limit: queryInteger(3, 'Rows per page, 1..500. @default 50').optional(),
  before: queryInteger(19, 'Rows older than this fire id (the `next` of the previous page).').optional(),
  outcome: queryEnum(FIRE_OUTCOME_VALUES, 'Only rows with this outcome.').optional(),
});

export const FireBody = z
  .object({
    inputs: z.record(z.string(), z.unknown()).optional().describe('Laid over the trigger\'s rendered inputs.'),
    key: z.string().min(1).max(200).optional().describe('Makes a retried call start one run: the occurrence is manual:<key>.'),
  })
  .strict();

export const BackfillBody = z.object({ from: Time, to: Time }).strict().describe('cron: one occurrence per tick in [from, to] (at most 1000), the overlap policy applied.');

export const TestBody = z
  .object({
    event: z.unknown().optional().describe('subject, event: a sample event ({ data, headers, subject }).'),
    headers: z.record(z.string(), z.string()).optional().describe('webhook: the delivery\'s headers.'),
    body: z.string().max(10 * 1024 * 1024).optional().describe('webhook: the delivery\'s body, exactly as sent.'),
    at: Time.optional().describe('cron: evaluate at this time. @default now'),
  })
  .strict();

// ---- responses

export const TriggerSummary = z.object({
  workflow: z.string(),
  trigger: z.string(),
  kind: z.enum(['cron', 'subject', 'event', 'webhook', 'poll']),
  state: z.enum(['active', 'paused']),
  version: z.number().int().describe('The published version the trigger comes from.'),
  nextFireAt: Time.optional().describe('cron: the next tick.'),
  lastFire: z.object({ outcome: Outcome, at: Time, runId: z.string().optional() }).optional(),
  counts: z.record(z.string(), z.number().int()).describe('Fire-log rows by outcome.'),
});
export const TriggerList = z.object({ triggers: z.array(TriggerSummary) });

export const FireView = z.object({
  id: z.string(),
  occurrence: z.string().describe('The tick (ISO time), delivery id, item key or message position.'),
  outcome: Outcome,
  reason: z.string().optional(),
  runId: z.string().optional(),
  idempotencyKey: z.string().optional().describe('trigger:<workflow>:<trigger>:<occurrence>'),
  scheduledAt: Time.optional(),
  at: Time,
  held: z.boolean().optional().describe('Buffered by the overlap policy until the active run ends.'),
});
export const FirePage = z.object({ fires: z.array(FireView), next: z.string().optional() });

export const OccurrenceResult = z.object({
  outcome: Outcome,
  reason: z.string().optional(),
  runId: z.string().optional(),
  idempotencyKey: z.string().optional(),
  fireId: z.string(),
});
export const BackfillResult = z.object({ ticks: z.number().int(), results: z.array(OccurrenceResult) });
export const TriggerState = z.object({ state: z.enum(['active', 'paused']) });

export const TestResult = z.object({
  kind: z.string(),
  passed: z.boolean().describe('The filter held (and, for webhooks, the signature verified).'),
  dedupeKey: z.string().optional(),
  inputs: z.record(z.string(), z.unknown()).optional(),
  idempotencyKey: z.string().optional(),
  error: z.string().optional(),
  refused: z.object({ reason: z.string(), message: z.string() }).optional(),
  deliveryId: z.string().optional(),
  items: z.array(z.object({ key: z.string(), new: z.boolean(), passed: z.boolean(), inputs: z.record(z.string(), z.unknown()).optional(), error: z.string().optional() })).optional(),
  cursor: z.unknown().optional(),
  nextFires: z.array(Time).optional(),
});

export const HookResult = z.object({
  outcome: Outcome.describe('fired, duplicate (a replayed delivery: nothing starts), filtered or failed.'),
  deliveryId: z.string(),
  runId: z.string().optional(),
  reason: z.string().optional(),
});

const NOT_FOUND = problem('No active trigger by that workflow and id in the caller\'s namespace (TRIGGER_NOT_FOUND)');

export const ROUTES = {
  listTriggers: {
    method: 'get',
    path: '/v1/triggers',
    summary: 'Every trigger of the published versions: kind, state, next fire, last fire and outcome counts',
    tag: 'triggers',
    responses: { 200: { description: 'The catalog', schema: TriggerList } },
  },
  triggerFires: {
    method: 'get',
    path: '/v1/triggers/{workflow}/{trigger}/fires',
    summary: 'The fire log of a trigger, newest first',
    tag: 'triggers',
    params: TriggerPath,
    query: FiresQuery,
    responses: { 200: { description: 'A page of the fire log', schema: FirePage }, 404: NOT_FOUND },
  },
  pauseTrigger: {
    method: 'post',
    path: '/v1/triggers/{workflow}/{trigger}/pause',
    summary: 'Pause a trigger: its occurrences are recorded as skipped',
    tag: 'triggers',
    params: TriggerPath,
    responses: { 200: { description: 'Paused', schema: TriggerState }, 404: NOT_FOUND },
  },
  resumeTrigger: {
    method: 'post',
    path: '/v1/triggers/{workflow}/{trigger}/resume',
    summary: 'Resume a paused trigger',
    tag: 'triggers',
    params: TriggerPath,
    responses: { 200: { description: 'Active', schema: TriggerState }, 404: NOT_FOUND },
  },
  fireTrigger: {
    method: 'post',
    path: '/v1/triggers/{workflow}/{trigger}/fire',
    summary: 'Start a run now, with optional inputs',
    tag: 'triggers',
    params: TriggerPath,
    body: FireBody,
    responses: { 202: { description: 'Recorded (fired, or duplicate for a repeated key)', schema: OccurrenceResult }, 404: NOT_FOUND },
  },
  backfillTrigger: {
    method: 'post',
    path: '/v1/triggers/{workflow}/{trigger}/backfill',
    summary: 'cron: one run per tick in a range (the overlap policy applies)',
    tag: 'triggers',
    params: TriggerPath,
    body: BackfillBody,
    responses: { 202: { description: 'The ticks and what each did', schema: BackfillResult }, 404: NOT_FOUND, 409: problem('Not a cron trigger (NOT_SUPPORTED)') },
  },
  testTrigger: {
    method: 'post',
    path: '/v1/triggers/{workflow}/{trigger}/test',
    summary: 'What the trigger would do with a sample event, webhook request or (poll) one real fetch; starts nothing',
    tag: 'triggers',
    params: TriggerPath,
    body: TestBody,
    responses: { 200: { description: 'The verdict', schema: TestResult }, 404: NOT_FOUND },
  },
  deliverHook: {
    method: 'post',
    path: '/v1/hooks/{namespace}/{workflow}/{trigger}',
    summary: 'A webhook delivery: verified by its signature (no API key); a replay starts nothing',
    tag: 'hooks',
    params: HookPath,
    auth: false,
    responses: {
      200: { description: 'Recorded', schema: HookResult },
      401: problem('Signature, timestamp or secret refused (WEBHOOK_REFUSED, with reason)'),
      404: NOT_FOUND,
      413: problem('The body is larger than the trigger accepts'),
    },
  },
} satisfies Record<string, RouteSpec>;

export type TriggerSummaryType = z.infer<typeof TriggerSummary>;
export type FirePageType = z.infer<typeof FirePage>;
export type OccurrenceResultType = z.infer<typeof OccurrenceResult>;
export type BackfillResultType = z.infer<typeof BackfillResult>;
export type TestResultType = z.infer<typeof TestResult>;
export type TestBodyInput = z.input<typeof TestBody>;
