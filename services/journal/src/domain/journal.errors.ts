import { WeftError } from '@weft/contracts';

/** Stable, machine-readable reasons a journal call fails. */
export type JournalErrorCode =
  /** No journal entry for that run id (never seen, or pruned). */
  | 'RUN_NOT_FOUND'
  /** The step has no checkpoint (did not complete, or pruned). */
  | 'CHECKPOINT_NOT_FOUND'
  /** A query parameter is malformed. */
  | 'INVALID_QUERY'
  /** A lifecycle event the journal cannot record as it is; never retried. */
  | 'INVALID_EVENT'
  | 'STORE_CLOSED';

export class JournalError extends WeftError<JournalErrorCode> {}
