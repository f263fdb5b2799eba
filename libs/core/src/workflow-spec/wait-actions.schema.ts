import { z } from 'zod';
import { SIGNAL_NAME_PATTERN } from '@weft/contracts';

/**
 * The `with` of the actions the scheduler runs itself as durable waits (no executor runs
 * them). Values may be ${{ }} templates, read when the step starts; `wait.event`'s `match`
 * is bare CEL over `event`, evaluated for each signal.
 */

const DurationText = z.string().min(1).describe('A duration (30s, 2h, 1h30m) or a ${{ }} expression yielding one.');

export const SleepWith = z
  .object({
    duration: z.union([DurationText, z.number().min(0)]).optional().describe('How long to sleep (or milliseconds). Exactly one of duration and until.'),
    until: z.string().min(1).optional().describe('An ISO 8601 time (or a ${{ }} expression yielding one) to sleep until; a time already past wakes at once.'),
  })
  .strict();

export const WaitEventWith = z
  .object({
    event: z.string().min(1).describe(`The signal name to wait for (pattern ${SIGNAL_NAME_PATTERN}).`),
    key: z
      .union([z.string().min(1), z.number()])
      .optional()
      .describe('Only signals with this key satisfy the wait (usually an expression, e.g. ${{ inputs.invoiceId }}).'),
    match: z.string().min(1).optional().describe('Bare CEL over `event` ({ id, name, key, data, receivedAt }); only signals for which it is true satisfy the wait.'),
    timeout: DurationText.describe('How long to wait; then the step fails with TIMEOUT (retries do not apply; onFailure does).'),
    lookback: DurationText.optional().describe('A signal received at most this long before the wait began satisfies it (at most 7d). @default 0s'),
  })
  .strict();

/** `action: workflow`: a child run of another workflow; the step completes with its outputs. */
export const WorkflowWith = z
  .object({
    workflow: z.string().min(1).max(100).describe('The workflow to run as a child (a stored workflow in the namespace; in weft run, a file next to the parent or in --workflows).'),
    version: z
      .union([z.number().int().min(1).max(1_000_000_000), z.string().min(1)])
      .optional()
      .describe('A stored version of it (or an expression yielding one). @default the published version'),
    inputs: z.record(z.string(), z.unknown()).optional().describe("The child's inputs (values may be ${{ }} templates)."),
  })
  .strict();

/** `with` schemas by action name. */
export const WAIT_ACTION_SCHEMAS = { sleep: SleepWith, 'wait.event': WaitEventWith, workflow: WorkflowWith } as const;
export type WaitActionName = keyof typeof WAIT_ACTION_SCHEMAS;
export const isWaitActionName = (action: string): action is WaitActionName => Object.hasOwn(WAIT_ACTION_SCHEMAS, action);

/** JSON Schemas of the wait actions' inputs, for the action catalog. */
export function waitActionInputSchemas(): Record<WaitActionName, Record<string, unknown>> {
  const json = (schema: z.ZodType): Record<string, unknown> => {
    const { $schema: _, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input' }) as Record<string, unknown>;
    return rest;
  };
  return { sleep: json(SleepWith), 'wait.event': json(WaitEventWith), workflow: json(WorkflowWith) };
}
