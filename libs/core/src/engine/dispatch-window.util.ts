import { TERMINAL_STEP_STATUSES } from '@weft/contracts';
import { stepIn } from './steps-record.util';
import type { RunState, StepState } from './types';

/*
 * A run's dispatch window (issue 15): at most `maxStepsInFlight` of its steps are dispatched
 * and unfinished at once. Ready steps beyond it stay `pending` ("held") and are dispatched in
 * plan order as earlier ones finish, so a 50,000-step run puts at most that many dispatches
 * ahead of other runs' in a task queue, and a cancel has at most that many attempts to stop.
 * Nothing of it is stored: the load is counted from the steps (once per loaded state, then by
 * delta), held steps are pending steps whose needs have settled.
 */

/** Steps of a run in flight at most when its workflow sets no `maxStepsInFlight`. */
export const DEFAULT_DISPATCH_WINDOW = 64;

/**
 * A run's default window while the scheduler decides for other runs beside it (WindowShare,
 * WEFT_SHARED_WINDOW): the executors, the broker and the database are shared, and a big run
 * with 64 steps in flight takes most of them from small runs that come and go beside it.
 */
export const DEFAULT_SHARED_WINDOW = 16;

/**
 * The shell's fair share of a run's default window (DecideOptions.windowShare), asked once per
 * decision: the window of a run whose workflow sets no `maxStepsInFlight`. A window set on the
 * workflow is the workflow's own and is never changed.
 */
export interface WindowShare {
  /** The default window for a decision of this run about to be made. */
  windowOf(runId: string): number;
  /** The decision left the run finished: it no longer shares anything. */
  ended(runId: string): void;
}

/** The run's window size (`defaultWindow`: the window when its workflow sets none). */
export const dispatchWindow = (state: Pick<RunState, 'spec'>, defaultWindow = DEFAULT_DISPATCH_WINDOW): number => state.spec.maxStepsInFlight ?? defaultWindow;

/**
 * Whether a step holds a place in its run's window: started and unfinished, at an executor or
 * on its way to one (queued, running, retrying, waiting for a concurrency slot or a rate permit).
 * Waits that no executor serves (a sleep, a signal, a review, a child run) do not, nor do forEach
 * items (their step counts once; its own `concurrency` bounds them).
 */
export function inWindow(step: StepState | undefined): boolean {
  if (step === undefined || step.item !== undefined) return false;
  switch (step.status) {
    case 'queued':
    case 'running':
    case 'retrying':
      return true;
    case 'waiting':
      return step.wait?.kind === 'slot' || step.wait?.kind === 'rate';
    default:
      return false;
  }
}

/** What a decision starts from: steps in the window, and the plan position before which no step is held. */
export interface WindowLoad {
  inFlight: number;
  /**
   * Every held step is at this plan position or after it: a bound, except that it is the plan's
   * length exactly when no step is held (then a ready step is dispatched at once, as ever).
   */
  heldFrom: number;
}

const TERMINAL = new Set<string>(TERMINAL_STEP_STATUSES);
// Keyed by steps record, as the run's active count is: a decision sets it for the record it returns.
const loads = new WeakMap<Record<string, StepState>, WindowLoad>();

/**
 * The first held step from `from` on, or the plan's length. Between decisions a held step is a
 * pending step whose needs have all ended (any other such step was skipped, failed or dispatched).
 */
export function firstHeld(state: Pick<RunState, 'plan' | 'steps'>, from: number): number {
  for (let i = from; i < state.plan.length; i++) {
    const p = state.plan[i];
    if (stepIn(state.steps, p.id)?.status === 'pending' && p.needs.every((need) => TERMINAL.has(stepIn(state.steps, need)?.status ?? 'pending'))) return i;
  }
  return state.plan.length;
}

/** The window's load of a state: remembered by the decision that made it, else counted (O(steps), once per loaded state). */
export function windowLoad(state: Pick<RunState, 'plan' | 'steps'>): WindowLoad {
  let load = loads.get(state.steps);
  if (load === undefined) {
    let inFlight = 0;
    for (const p of state.plan) if (inWindow(stepIn(state.steps, p.id))) inFlight++;
    load = { inFlight, heldFrom: firstHeld(state, 0) };
    loads.set(state.steps, load);
  }
  return load;
}

export function rememberWindowLoad(steps: Record<string, StepState>, load: WindowLoad): void {
  loads.set(steps, load);
}

/**
 * Counted from the steps alone (for specs and diagnostics): steps in the window, the window size,
 * and `held`, pending steps whose needs have all ended. `inFlight <= window` holds in every state
 * a decision returns, and `held > 0` only while `inFlight === window` (or the run is not running).
 */
export function dispatchWindowLoad(state: RunState): { inFlight: number; window: number; held: number } {
  let inFlight = 0;
  let held = 0;
  for (const p of state.plan) {
    const step = stepIn(state.steps, p.id);
    if (inWindow(step)) inFlight++;
    else if (step?.status === 'pending' && p.needs.every((need) => TERMINAL.has(stepIn(state.steps, need)?.status ?? 'pending'))) held++;
  }
  return { inFlight, window: dispatchWindow(state), held };
}
