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
    steps: stepsInPlanOrder(row.plan, steps, canceledWith(row)),
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
 * a row reads back as this. Any later change writes the step's row, but one: see canceledUntouched.
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
    keyCount(step) === UNTOUCHED_KEYS
  );
}

/** Own enumerable keys of a plain object, without building their list (a cancel checks 50,000 steps). */
function keyCount(object: object): number {
  let count = 0;
  for (const key in object) if (Object.hasOwn(object, key)) count++;
  return count;
}

const UNTOUCHED_KEYS = keyCount(untouchedStep(''));

/** What a run's cancel did to its untouched steps: the cancel's reason (the run's error message) and time (the run's end). */
export interface RunCancel {
  reason: string;
  finishedAt: number;
}

/**
 * An untouched step as the core's run.cancel leaves it (cancelActive: `canceled`, the cancel's
 * reason and time, nothing else). A cancel writes no row for a step it moves from untouched to
 * exactly this (stepsWithRows): a 50,000-step run's cancel writes the rows of the steps that ran,
 * not 50,000. So in a canceled run, a plan step without a row, or with an untouched one (written
 * by an earlier run.retry), reads back as this. Sound because every untouched plan step is
 * canceled by run.cancel, the only way into `canceled`, with the run's error message as reason
 * and the run's end as its end; and run.retry, the only way out, writes every step it resets.
 */
export const canceledUntouched = (id: string, cancel: RunCancel): StepState => ({ ...untouchedStep(id), status: 'canceled', reason: cancel.reason, finishedAt: cancel.finishedAt });

/** Whether `step` is exactly canceledUntouched(step.id, cancel). */
export function isCanceledUntouched(step: StepState, cancel: RunCancel): boolean {
  return (
    step.status === 'canceled' &&
    step.reason === cancel.reason &&
    step.finishedAt === cancel.finishedAt &&
    step.attempt === 0 &&
    step.attempts.length === 0 &&
    step.lostLeases === 0 &&
    step.attemptBase === 0 &&
    keyCount(step) === CANCELED_UNTOUCHED_KEYS
  );
}

const CANCELED_UNTOUCHED_KEYS = keyCount(canceledUntouched('', { reason: '', finishedAt: 0 }));

/** The cancel of a canceled run (its error message and end), as a state; undefined for any other run. */
export function runCancelOf(state: Pick<RunState, 'status' | 'error' | 'finishedAt'>): RunCancel | undefined {
  if (state.status !== 'canceled' || state.error === undefined || state.finishedAt === undefined) return undefined;
  return { reason: state.error.message, finishedAt: state.finishedAt };
}

function canceledWith(row: RunRow): RunCancel | undefined {
  if (row.status !== 'canceled' || row.error === null || row.finished_at === null) return undefined;
  return { reason: row.error.message, finishedAt: millis(row.finished_at) };
}

/**
 * Keys in plan order, as the core built them (rows come back in any order); a plan step without a row is
 * untouched, or in a canceled run canceledUntouched (so is one whose row is untouched).
 */
function stepsInPlanOrder(plan: readonly PlannedStep[], rows: readonly StepRow[], cancel: RunCancel | undefined): Record<string, StepState> {
  const byId = new Map(rows.map((row) => [row.step_id, row]));
  // No prototype, as the core builds it: a step id such as __proto__ stays an ordinary key.
  const steps = Object.create(null) as Record<string, StepState>;
  const put = (id: string, step: StepState) => Object.defineProperty(steps, id, { value: step, enumerable: true, writable: true, configurable: true });
  for (const { id } of plan) {
    const row = byId.get(id);
    const step = row === undefined ? untouchedStep(id) : rowToStep(row);
    put(id, cancel !== undefined && (row === undefined || isUntouched(step)) ? canceledUntouched(id, cancel) : step);
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
