import type { AttemptRecord, PlannedStep, RunState, RunStatus, StepError, StepState, StepStatus, WorkflowSpec } from '@weft/core';

/**
 * RunState <-> rows. Fields that queries use get columns; every other field goes to
 * the `extra` jsonb column, so a field the core adds later still round-trips.
 * Times are epoch ms in the state and ISO strings (ms precision) on the way in.
 */

/** A runs row as selected by the store. */
export interface RunRow {
  id: string;
  namespace: string;
  workflow: string;
  version: string;
  status: string;
  inputs: Record<string, unknown>;
  outputs: Record<string, unknown> | null;
  error: StepError | null;
  spec: WorkflowSpec;
  plan: PlannedStep[];
  extra: Record<string, unknown>;
  seq: number;
  correlation_id: string | null;
  created_at: Date | string;
  started_at: Date | string | null;
  finished_at: Date | string | null;
  deadline_at: Date | string | null;
}

/** A step_runs row as selected by the store. */
export interface StepRow {
  run_id: string;
  step_id: string;
  status: string;
  attempt: number;
  token: string | null;
  queued_at: Date | string | null;
  started_at: Date | string | null;
  finished_at: Date | string | null;
  lease_expires_at: Date | string | null;
  next_attempt_at: Date | string | null;
  output: unknown;
  /** `output IS NOT NULL`: tells JSON null (the step returned null) from no output. */
  has_output: boolean;
  error: StepError | null;
  attempts: AttemptRecord[];
  extra: Record<string, unknown>;
}

const RUN_FIELDS = new Set<string>([
  'runId', 'workflow', 'version', 'spec', 'plan', 'steps', 'status', 'inputs', 'outputs', 'error',
  'createdAt', 'startedAt', 'finishedAt', 'deadlineAt', 'correlationId', 'namespace', 'seq',
] satisfies (keyof RunState)[]);

const STEP_FIELDS = new Set<string>([
  'id', 'status', 'attempt', 'token', 'queuedAt', 'startedAt', 'finishedAt', 'leaseExpiresAt', 'nextAttemptAt',
  'output', 'error', 'attempts',
] satisfies (keyof StepState)[]);

/** The runs columns of a state, as a JSON object for `jsonb` parameters. */
export function runToJson(state: RunState): Record<string, unknown> {
  return {
    id: state.runId,
    namespace: state.namespace,
    workflow: state.workflow,
    version: state.version,
    status: state.status,
    inputs: state.inputs,
    outputs: state.outputs,
    error: state.error,
    spec: state.spec,
    plan: state.plan,
    extra: rest(state, RUN_FIELDS),
    seq: state.seq,
    correlation_id: state.correlationId,
    created_at: iso(state.createdAt),
    started_at: iso(state.startedAt),
    finished_at: iso(state.finishedAt),
    deadline_at: iso(state.deadlineAt),
  };
}

/** The step_runs columns of a step, as a JSON object for `jsonb` parameters. */
export function stepToJson(runId: string, step: StepState): Record<string, unknown> {
  return {
    run_id: runId,
    step_id: step.id,
    status: step.status,
    attempt: step.attempt,
    token: step.token,
    queued_at: iso(step.queuedAt),
    started_at: iso(step.startedAt),
    finished_at: iso(step.finishedAt),
    lease_expires_at: iso(step.leaseExpiresAt),
    next_attempt_at: iso(step.nextAttemptAt),
    // JSON null stays a jsonb null (the step returned null); undefined drops the key (SQL NULL).
    output: step.output,
    error: step.error,
    attempts: step.attempts,
    extra: rest(step, STEP_FIELDS),
  };
}

export function rowToRun(row: RunRow, steps: readonly StepRow[]): RunState {
  const state: RunState = {
    ...row.extra,
    runId: row.id,
    namespace: row.namespace,
    workflow: row.workflow,
    version: row.version,
    spec: row.spec,
    plan: row.plan,
    steps: stepsInPlanOrder(row.plan, steps),
    status: row.status as RunStatus,
    inputs: row.inputs,
    createdAt: millis(row.created_at),
    seq: row.seq,
  };
  if (row.outputs !== null) state.outputs = row.outputs;
  if (row.error !== null) state.error = row.error;
  if (row.started_at !== null) state.startedAt = millis(row.started_at);
  if (row.finished_at !== null) state.finishedAt = millis(row.finished_at);
  if (row.deadline_at !== null) state.deadlineAt = millis(row.deadline_at);
  if (row.correlation_id !== null) state.correlationId = row.correlation_id;
  return state;
}

export function rowToStep(row: StepRow): StepState {
  const step: StepState = {
    ...row.extra,
    id: row.step_id,
    status: row.status as StepStatus,
    attempt: row.attempt,
    attempts: row.attempts,
  };
  if (row.token !== null) step.token = row.token;
  if (row.queued_at !== null) step.queuedAt = millis(row.queued_at);
  if (row.started_at !== null) step.startedAt = millis(row.started_at);
  if (row.finished_at !== null) step.finishedAt = millis(row.finished_at);
  if (row.lease_expires_at !== null) step.leaseExpiresAt = millis(row.lease_expires_at);
  if (row.next_attempt_at !== null) step.nextAttemptAt = millis(row.next_attempt_at);
  if (row.has_output) step.output = row.output;
  if (row.error !== null) step.error = row.error;
  return step;
}

/**
 * A plan step's state before anything happened to it, as the core's createRun puts it. The
 * store writes no row for such a step when it creates a run (a 50,000-step run's creation
 * writes its run row and the steps it dispatches, not 50,000 step rows); a plan step without
 * a row reads back as this. Any later change writes the step's row.
 */
export const untouchedStep = (id: string): StepState => ({ id, status: 'pending', attempt: 0, attempts: [], lostLeases: 0, attemptBase: 0 });

/** Whether `step` is exactly untouchedStep(step.id) (nothing else set, not even to undefined). */
export function isUntouched(step: StepState): boolean {
  return (
    step.status === 'pending' &&
    step.attempt === 0 &&
    step.attempts.length === 0 &&
    step.lostLeases === 0 &&
    step.attemptBase === 0 &&
    Object.keys(step).length === UNTOUCHED_KEYS
  );
}

const UNTOUCHED_KEYS = Object.keys(untouchedStep('')).length;

/** Keys in plan order, as the core built them (rows come back in any order); a plan step without a row is untouched. */
function stepsInPlanOrder(plan: readonly PlannedStep[], rows: readonly StepRow[]): Record<string, StepState> {
  const byId = new Map(rows.map((row) => [row.step_id, row]));
  // No prototype, as the core builds it: a step id such as __proto__ stays an ordinary key.
  const steps = Object.create(null) as Record<string, StepState>;
  const put = (id: string, step: StepState) => Object.defineProperty(steps, id, { value: step, enumerable: true, writable: true, configurable: true });
  for (const { id } of plan) {
    const row = byId.get(id);
    put(id, row === undefined ? untouchedStep(id) : rowToStep(row));
    byId.delete(id);
  }
  // Steps outside the plan (forEach items) after it, by id.
  for (const row of [...byId.values()].sort((a, b) => a.step_id.localeCompare(b.step_id))) put(row.step_id, rowToStep(row));
  return steps;
}

/** Epoch ms as an ISO string with ms precision (timestamptz keeps microseconds, so it round-trips). */
export const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());

/** A timestamptz as the driver returns it (a Date; a string if a parser is missing) to epoch ms. */
export const millis = (value: Date | string): number => (value instanceof Date ? value.getTime() : new Date(value).getTime());

function rest(object: object, known: ReadonlySet<string>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(object).filter(([key, value]) => !known.has(key) && value !== undefined));
}
