import { type RunState, type StepState, stepIn } from '@weft/core';
import { isCanceledUntouched, isUntouched, runCancelOf, stepToJson } from './run-state.mapper';

/**
 * The steps of a transition from `loaded` to `state` whose rows must be written: all of `changed`
 * but, when the transition cancels the run, the steps it moved from untouched to exactly
 * canceledUntouched (the core's cancel of a step nothing happened to). Those had no row or an
 * untouched one, and read back as canceled from the run row (run-state.mapper.ts), so a
 * 50,000-step run's cancel writes the rows of the steps that ran, not 50,000. Without `loaded`
 * (a new run): all of them.
 */
export function stepsWithRows(state: RunState, loaded: RunState | undefined, changed: readonly StepState[]): readonly StepState[] {
  const cancel = loaded === undefined ? undefined : runCancelOf(state);
  if (cancel === undefined || loaded === undefined) return changed;
  return changed.filter((step) => {
    if (!isCanceledUntouched(step, cancel)) return true;
    const before = stepIn(loaded.steps, step.id);
    return before === undefined || !isUntouched(before);
  });
}

/**
 * `steps`' rows as the JSON elements of a step_write input: rows alike but for their step id
 * travel as one object with the list of their ids (`{"row":..,"ids":[..]}`, plus `extra`'s
 * fields first, e.g. the run id of a group statement), so a transition that moves thousands of
 * steps the same way (a run's creation: every step pending; a cancel: every pending step
 * canceled) sends each shape once, not once per step: PostgreSQL parses a few hundred KB of ids
 * instead of ~300 bytes of JSON per step (a 50,000-step run's cancel halved its upsert).
 */
export function stepShapes(runId: string, steps: readonly StepState[], extra = ''): string[] {
  const groups = new Map<string, string[]>();
  for (const step of steps) {
    const { run_id: _run, step_id: _step, ...row } = stepToJson(runId, step);
    const shape = JSON.stringify(row);
    const ids = groups.get(shape);
    if (ids) ids.push(step.id);
    else groups.set(shape, [step.id]);
  }
  return [...groups].map(([shape, ids]) => `{${extra}"row":${shape},"ids":${JSON.stringify(ids)}}`);
}

/**
 * The `step_write` CTE: an upsert of the step rows in `input` (a jsonb SQL expression: an array
 * of stepShapes' elements, `g.v` in `runId` and `where`), `runId` the SQL expression of their run's
 * id; `where` (a ` WHERE ...` clause, or '') makes the write conditional (a seq guard).
 */
export function stepUpsertCte(runId: string, input: string, where = ''): string {
  return `step_write AS (
      INSERT INTO step_runs (run_id, step_id, status, attempt, token, queued_at, started_at, finished_at, lease_expires_at,
                             next_attempt_at, output, error, attempts, extra, updated_at)
      SELECT ${runId}, id, e->>'status', (e->>'attempt')::int, e->>'token', (e->>'queued_at')::timestamptz,
             (e->>'started_at')::timestamptz, (e->>'finished_at')::timestamptz, (e->>'lease_expires_at')::timestamptz,
             (e->>'next_attempt_at')::timestamptz, e->'output', e->'error', e->'attempts', e->'extra', clock_timestamp()
      FROM jsonb_array_elements(${input}) AS g(v)
      CROSS JOIN LATERAL (SELECT g.v->'row' AS e) AS shape
      CROSS JOIN LATERAL jsonb_array_elements_text(g.v->'ids') AS id${where}
      ON CONFLICT (run_id, step_id) DO UPDATE SET status = excluded.status, attempt = excluded.attempt, token = excluded.token,
        queued_at = excluded.queued_at, started_at = excluded.started_at, finished_at = excluded.finished_at,
        lease_expires_at = excluded.lease_expires_at, next_attempt_at = excluded.next_attempt_at, output = excluded.output,
        error = excluded.error, attempts = excluded.attempts, extra = excluded.extra, updated_at = excluded.updated_at
      RETURNING 1)`;
}

/**
 * The `step_write` CTE of one run's transition (stepUpsertCte of stepShapes). `param` adds a
 * positional parameter and returns its `$n`; `where` makes the write conditional.
 */
export function stepWriteCte(runId: string, steps: readonly StepState[], param: (value: unknown) => string, where = ''): string {
  return stepUpsertCte(param(runId), `${param(`[${stepShapes(runId, steps).join(',')}]`)}::jsonb`, where);
}
