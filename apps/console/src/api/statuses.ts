import type { RunStatus } from '@weft/contracts';

/**
 * The run statuses, in the order the runs filter shows them. A value, so it cannot come from
 * @weft/contracts (zod, Node) into the browser bundle: only its type does, and `satisfies`
 * fails the typecheck if the two ever differ.
 */
export const RUN_STATUSES = ['queued', 'running', 'waiting', 'completed', 'partially_completed', 'failed', 'canceled'] as const satisfies readonly RunStatus[];

type Missing = Exclude<RunStatus, (typeof RUN_STATUSES)[number]>;
/** Fails the typecheck when @weft/contracts gains a status this list lacks. */
export const EVERY_STATUS_LISTED: Missing extends never ? true : never = true;
