import { WeftError } from '@weft/contracts';

/** Stable, machine-readable reasons a RunStore call fails. */
export type RunStoreErrorCode =
  /** The run row's seq was not the one loaded under the lock: someone wrote it outside updateRun. */
  | 'RUN_SEQ_CONFLICT'
  /** The store was closed. */
  | 'STORE_CLOSED'
  /** The database cannot be reached right now (connection refused or dropped, server restarting): retry later. */
  | 'STORE_UNAVAILABLE';

export class RunStoreError extends WeftError<RunStoreErrorCode> {}

/** A run is created in the namespace its idempotency key is looked up in, and no other (a caller's bug otherwise). */
export function assertCreatedIn(state: { runId: string; namespace: string }, namespace: string): void {
  if (state.namespace !== namespace) throw new Error(`createRun: run ${state.runId} is of namespace ${state.namespace} but was created in ${namespace}`);
}
