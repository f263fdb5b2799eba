import { renderValue } from '../expr';
import type { Command, LifecycleEventDraft } from './events';
import type { Millis, RunAdmission, RunState } from './types';

/**
 * A workflow's own concurrency limit (`concurrency: { limit, key, strategy }` on the workflow,
 * docs/flow-control.md): a run starts only once it holds a slot of its key. It asks with the
 * same acquire-slot / slot.granted / release-slot as a step does, for the step id RUN_SLOT_STEP
 * (not an identifier, so never a step's), and stays `queued` meanwhile.
 */
export const RUN_SLOT_STEP = '$run';

/** What admission needs of a decision's working copy (run-tx.util's Tx). */
export interface RunSlotTx {
  readonly next: RunState;
  readonly at: Millis;
  readonly commands: Command[];
  emit(event: LifecycleEventDraft): void;
}

/** Whether the run must first get its workflow's slot (a limit, and none held or asked for). */
export const needsRunSlot = (state: RunState): boolean => state.spec.concurrency !== undefined && state.slot === undefined && state.admission === undefined;

/**
 * The run asks for a slot of its key (rendered over `inputs`) and stays queued. A key that
 * cannot be rendered is the empty key's (one key for the workflow): a run is never refused for it.
 */
export function requestRunSlot(tx: RunSlotTx, retry: boolean): void {
  const { next } = tx;
  const limit = next.spec.concurrency;
  if (limit === undefined) return;
  let key = '';
  try {
    const rendered = limit.key === undefined ? '' : renderValue(limit.key, { inputs: next.inputs, steps: {}, run: { id: next.runId, workflow: next.workflow } });
    key = typeof rendered === 'string' ? rendered : JSON.stringify(rendered ?? null);
  } catch {
    key = '';
  }
  // The decision's seq names the request: a retried run asks under a token of its own.
  const asked = next.seq.toString(36);
  const admission: RunAdmission = { token: `${next.runId}:${RUN_SLOT_STEP}:${asked}`, scope: next.workflow, key, limit: limit.limit, strategy: limit.strategy ?? 'queue', since: tx.at, ...(retry && { retry }) };
  next.admission = admission;
  next.status = 'queued';
  tx.commands.push({ type: 'acquire-slot', stepId: RUN_SLOT_STEP, token: admission.token, scope: admission.scope, key, limit: admission.limit, priority: 3, strategy: admission.strategy });
  tx.emit({ type: 'run.waiting', at: tx.at, status: 'queued', data: { wait: 'slot', key, limit: admission.limit, strategy: admission.strategy } });
}

/** The run's slot was granted: it holds it from now on (the caller starts the run). */
export function admitRun(next: RunState, admission: RunAdmission): void {
  next.slot = { token: admission.token, scope: admission.scope, key: admission.key };
  delete next.admission;
}

/** The run ended: give its slot back, or its place in the queue. */
export function releaseRunSlot(tx: RunSlotTx): void {
  const { next } = tx;
  const held = next.slot ?? (next.admission === undefined ? undefined : { token: next.admission.token, scope: next.admission.scope, key: next.admission.key });
  if (held === undefined) return;
  tx.commands.push({ type: 'release-slot', stepId: RUN_SLOT_STEP, ...held });
  delete next.slot;
  delete next.admission;
}
