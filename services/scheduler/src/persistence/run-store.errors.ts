/** Stable, machine-readable reasons a RunStore call fails. */
export type RunStoreErrorCode =
  /** The run row's seq was not the one loaded under the lock: someone wrote it outside updateRun. */
  | 'RUN_SEQ_CONFLICT'
  /** The store was closed. */
  | 'STORE_CLOSED'
  /** The database cannot be reached right now (connection refused or dropped, server restarting): retry later. */
  | 'STORE_UNAVAILABLE';

export class RunStoreError extends Error {
  constructor(
    readonly code: RunStoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RunStoreError';
  }
}
