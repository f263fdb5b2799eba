import { WeftError } from '@weft/contracts';
import { unitHash } from './retry-delay.util';
import type { RunState, RunStatus, StepError, StepWait } from './types';

/**
 * Sub-workflows (`action: workflow`): a step that starts a child run and waits for its end.
 * The child is a run of its own; the parent's step holds no executor slot while it runs.
 */

/** Default of WEFT_MAX_RUN_DEPTH: a root run is depth 0, its children 1, ... */
export const DEFAULT_MAX_RUN_DEPTH = 10;

export const CHILD_ERROR_CODES = {
  /** The child run ended failed, partially completed or canceled (its error is in the message). */
  childFailed: 'CHILD_FAILED',
  /** Starting the child would nest runs deeper than WEFT_MAX_RUN_DEPTH (never retried). */
  depthExceeded: 'RUN_DEPTH_EXCEEDED',
  /** The child could not be started: an unknown workflow or version, inputs that do not fit (never retried). */
  childRejected: 'CHILD_REJECTED',
} as const;

/** Where a child run reports its end: the parent's waiting step and attempt. */
export interface ParentRef {
  runId: string;
  stepId: string;
  attempt: number;
  /** The parent attempt's token: the child's end is applied only to that attempt. */
  token: string;
}

export type ChildWait = Extract<StepWait, { kind: 'child' }>;

/** A `workflow` step's rendered `with` does not name a child; the step fails with INVALID_WAIT. */
export class ChildInputError extends WeftError<'INVALID_WAIT'> {
  constructor(message: string) {
    super('INVALID_WAIT', message);
  }
}

/** Bounds of a child request (every input is bounded). */
const MAX_WORKFLOW_NAME = 100;
const MAX_VERSION = 1_000_000_000;

/** Reads `with: { workflow, version?, inputs? }` (rendered) into the child to start. */
export function childWait(input: Record<string, unknown>, childRunId: string): ChildWait {
  const { workflow, version, inputs } = input;
  if (typeof workflow !== 'string' || workflow.length === 0 || workflow.length > MAX_WORKFLOW_NAME) {
    throw new ChildInputError(`with.workflow must name a workflow (1..${MAX_WORKFLOW_NAME} characters), got ${JSON.stringify(workflow)}`);
  }
  const wait: ChildWait = { kind: 'child', childRunId, workflow, inputs: {} };
  if (version !== undefined && version !== null) {
    const n = typeof version === 'string' ? Number(version) : version;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_VERSION) throw new ChildInputError(`with.version must be a version number, got ${JSON.stringify(version)}`);
    wait.version = String(n);
  }
  if (inputs !== undefined && inputs !== null) {
    if (typeof inputs !== 'object' || Array.isArray(inputs)) throw new ChildInputError(`with.inputs must be an object, got ${JSON.stringify(inputs)}`);
    wait.inputs = inputs as Record<string, unknown>;
  }
  return wait;
}

/**
 * The child run's id, a function of the parent attempt's token (`<parentRun>:<step>:<attempt>`),
 * which is also the request's idempotency key: a replayed start names the same run, and the
 * parent knows its child's id before the child exists (to cancel it, to list it).
 */
export function childRunId(token: string): string {
  const hex = (salt: string): string => Math.floor(unitHash(`${salt}:${token}`) * 0x1_0000_0000).toString(16).padStart(8, '0');
  const h = hex('a') + hex('b') + hex('c') + hex('d');
  // UUID-shaped (version nibble 8: custom) like the ids the API mints.
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** The error a parent step fails with when its child did not complete. */
export function childFailure(childRunId: string, workflow: string, status: RunStatus, error: StepError | undefined): StepError {
  const cause = error === undefined ? '' : `: ${error.code} ${error.message}`;
  return { code: CHILD_ERROR_CODES.childFailed, message: `child run ${childRunId} (${workflow}) ${status}${cause}`, retryable: false };
}

/** A run's children so far: one per attempt of each `workflow` step (items included), in step order. */
export function childRuns(state: RunState): { stepId: string; attempt: number; runId: string }[] {
  const children: { stepId: string; attempt: number; runId: string }[] = [];
  const starters = new Set(state.plan.filter((p) => p.action === 'workflow').map((p) => p.id));
  if (starters.size === 0) return children;
  for (const step of Object.values(state.steps)) {
    const of = step.item?.of ?? step.id;
    if (!starters.has(of) || step.forEach !== undefined) continue;
    for (const a of step.attempts) children.push({ stepId: step.id, attempt: a.attempt, runId: childRunId(`${state.runId}:${step.id}:${a.attempt}`) });
  }
  return children;
}
