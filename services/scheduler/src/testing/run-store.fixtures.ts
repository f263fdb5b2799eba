import { type PlannedStep, type RunState, type StepState, type WorkflowSpec } from '@weft/core';
import { type OutboxMessage, type Transition } from '../ports/run-store.port';

/** Hand-built states for store tests: every optional field set somewhere, plus fields without a column. */

const retry = { maxAttempts: 3, backoff: 'exponential' as const, initialIntervalMs: 1000, maxIntervalMs: 60_000, multiplier: 2, jitter: true, nonRetryable: [] };

export const FIXTURE_SPEC: WorkflowSpec = {
  apiVersion: 'weft/v1',
  kind: 'Workflow',
  name: 'data-pipeline',
  description: 'Ingest, validate and export',
  inputs: { source: { type: 'string', required: true }, batchSize: { type: 'integer', default: 100 } },
  defaults: { timeout: '30s', retry: { maxAttempts: 3 }, queue: 'default' },
  steps: [
    { id: 'ingest', action: 'http.request', with: { url: '${{ inputs.source }}' } },
    { id: 'validate', needs: ['ingest'], action: 'validate-records' },
    { id: 'transform', needs: ['validate'], action: 'transform', if: '${{ steps.validate.output.valid }}' },
    { id: 'notify', needs: ['ingest'], action: 'log' },
    { id: 'export', needs: ['transform', 'notify'], action: 'noop', queue: 'exports' },
  ],
  outputs: { ids: '${{ steps.transform.output }}' },
};

const planned = (id: string, needs: string[], action: string, extra: Partial<PlannedStep> = {}): PlannedStep => ({
  id,
  needs,
  action,
  with: {},
  timeoutMs: 30_000,
  retry,
  queue: 'default',
  onFailure: 'fail-fast',
  ...extra,
});

export const FIXTURE_PLAN: PlannedStep[] = [
  planned('ingest', [], 'http.request', { with: { url: '${{ inputs.source }}' } }),
  planned('validate', ['ingest'], 'validate-records'),
  planned('notify', ['ingest'], 'log'),
  planned('transform', ['validate'], 'transform', { if: '${{ steps.validate.output.valid }}' }),
  planned('export', ['transform', 'notify'], 'noop', { queue: 'exports' }),
];

const T0 = Date.UTC(2026, 0, 2, 3, 4, 5, 678);

/** A running run: one step of each interesting shape, keyed in plan order (as the core builds them). */
export function runningRun(runId: string, overrides: Partial<RunState> = {}): RunState {
  const steps: Record<string, StepState> = {
    ingest: {
      id: 'ingest',
      status: 'completed',
      attempt: 2,
      token: `${runId}:ingest:2`,
      queuedAt: T0 + 10,
      startedAt: T0 + 1_011,
      finishedAt: T0 + 2_345,
      output: { status: 200, body: [{ id: 1, name: 'a' }, { id: 2, name: 'b' }], nested: { deep: [true, null, 1.5] } },
      attempts: [
        { attempt: 1, status: 'failed', dispatchedAt: T0 + 10, startedAt: T0 + 20, finishedAt: T0 + 30, workerId: 'w-1', error: { code: 'HTTP_503', message: 'unavailable', retryable: true } },
        { attempt: 2, status: 'completed', dispatchedAt: T0 + 1_010, startedAt: T0 + 1_011, finishedAt: T0 + 2_345, workerId: 'w-2' },
      ],
      lostLeases: 1,
      attemptBase: 0,
    },
    validate: {
      id: 'validate',
      status: 'running',
      attempt: 1,
      token: 'tok-validate-1',
      queuedAt: T0 + 2_400,
      startedAt: T0 + 2_450,
      leaseExpiresAt: T0 + 32_450,
      attempts: [{ attempt: 1, status: 'running', dispatchedAt: T0 + 2_400, startedAt: T0 + 2_450, workerId: 'w-3' }],
    },
    // A step that returned null: its output is JSON null, not absent.
    notify: { id: 'notify', status: 'completed', attempt: 1, output: null, attempts: [{ attempt: 1, status: 'completed', dispatchedAt: T0 + 2_400 }] },
    transform: { id: 'transform', status: 'retrying', attempt: 1, nextAttemptAt: T0 + 9_000, error: { code: 'TIMEOUT', message: 'timed out' }, attempts: [] },
    export: { id: 'export', status: 'pending', attempt: 0, attempts: [] },
  };
  return {
    runId,
    namespace: 'default',
    workflow: 'data-pipeline',
    version: '3',
    spec: FIXTURE_SPEC,
    plan: FIXTURE_PLAN,
    steps,
    status: 'running',
    inputs: { source: 'https://example.test/rows', batchSize: 100, unicode: 'héllo ✓', empty: {} },
    createdAt: T0,
    startedAt: T0 + 5,
    deadlineAt: T0 + 900_000,
    correlationId: `corr-${runId}`,
    seq: 7,
    ...overrides,
  };
}

/** A finished run with outputs, an error and a field RunState does not declare (it must survive anyway). */
export function finishedRun(runId: string, overrides: Partial<RunState> = {}): RunState {
  const base = runningRun(runId);
  const steps = Object.fromEntries(
    Object.entries(base.steps).map(([id, step]): [string, StepState] => [id, id === 'transform' || id === 'export' ? { ...step, status: 'skipped', reason: 'condition false' } : step]),
  );
  const state = {
    ...base,
    steps: { ...steps, validate: { ...base.steps.validate, status: 'failed' as const, finishedAt: T0 + 3_000, error: { code: 'INVALID', message: 'bad rows', retryable: false } } },
    status: 'failed' as const,
    outputs: { ids: [1, 2], note: null },
    error: { code: 'STEP_FAILED', message: 'validate failed' },
    finishedAt: T0 + 3_001,
    futureField: { added: 'by a newer core' },
    ...overrides,
  };
  return state as RunState;
}

export const transition = (state: RunState, parts: Partial<Omit<Transition, 'state'>> = {}): Transition => ({
  state,
  outbox: [],
  schedule: [],
  cancel: [],
  ...parts,
});

export const message = (runId: string, n: number, extra: Partial<OutboxMessage> = {}): OutboxMessage => ({
  kind: 'publish',
  subject: 'weft.event.step.started',
  payload: { runId, n, data: { list: [n, n + 1] } },
  msgId: `${runId}:msg:${n}`,
  ...extra,
});

/** A copy of `state` with seq + 1 and one step replaced (new objects only where something changed, as the core does). */
export function bump(state: RunState, stepId?: string, change: Partial<StepState> = {}): RunState {
  const next: RunState = { ...state, seq: state.seq + 1 };
  if (stepId !== undefined) next.steps = { ...state.steps, [stepId]: { ...state.steps[stepId], ...change } };
  return next;
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
/** Polls a synchronous `condition` until it holds; throws after `timeoutMs`. */
export async function waitUntil(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  await waitFor(async () => (condition() ? true : undefined), what, timeoutMs, 5);
}

export async function waitFor<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 5_000, everyMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
