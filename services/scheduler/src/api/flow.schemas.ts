import { STEP_STATUSES } from '@weft/core';
import { z } from 'zod';

/** Responses and parameters of the flow-control routes (forEach items, "why"); OpenAPI components by export name. */

const Time = z.string().describe('ISO 8601 time');
const Id = z.string().min(1).max(200);

export const ItemCounts = z.object({
  total: z.number().int(),
  completed: z.number().int(),
  failed: z.number().int(),
  canceled: z.number().int(),
  inFlight: z.number().int().describe('Queued, running or retrying.'),
  pending: z.number().int().describe('Not started yet.'),
});

export const StepItemsPath = z.object({ id: Id, stepId: Id }).strict();
export const StepItemsQuery = z
  .object({
    offset: z.string().regex(/^\d{1,6}$/).optional().describe('First item index. @default 0'),
    limit: z.string().regex(/^\d{1,4}$/).optional().describe('1-1000. @default 100'),
    status: z.enum(STEP_STATUSES).optional().describe('Only items with this status.'),
  })
  .strict();

export const ItemView = z.object({
  index: z.number().int(),
  id: z.string().describe('<stepId>[<index>]: the item entry (its events in the journal carry this step id).'),
  item: z.unknown().describe('The list element.'),
  status: z.enum(STEP_STATUSES),
  attempts: z.number().int(),
  startedAt: Time.nullable(),
  finishedAt: Time.nullable(),
  output: z.unknown(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
});
export const ItemPage = z.object({
  runId: z.string(),
  stepId: z.string(),
  counts: ItemCounts,
  items: z.array(ItemView),
  nextOffset: z.number().int().nullable(),
});

export const RunWhyPath = z.object({ id: Id }).strict();
export const StepWhyView = z.object({
  stepId: z.string(),
  status: z.enum(STEP_STATUSES),
  reason: z
    .object({ kind: z.string().describe('run-queued | needs | retry-backoff | no-worker | dispatched | leased | timer | event | review | slot | rate-limited | child | items') })
    .catchall(z.unknown())
    .describe('The one reason (kind and its details; times ISO 8601).'),
  since: Time.nullable(),
  text: z.string().describe('The reason in one sentence.'),
});
export const RunWhyView = z.object({ runId: z.string(), status: z.string(), at: Time, steps: z.array(StepWhyView) });

export type ItemPageView = z.infer<typeof ItemPage>;
export type RunWhyResponse = z.infer<typeof RunWhyView>;
