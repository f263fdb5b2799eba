import { WeftError } from '@weft/contracts';

/** Stable, machine-readable reasons an analytics call fails. */
export type AnalyticsErrorCode =
  /** A query parameter is malformed. */
  | 'INVALID_QUERY'
  /** A lifecycle event analytics cannot count as it is; never retried. */
  | 'INVALID_EVENT'
  | 'STORE_CLOSED';

export class AnalyticsError extends WeftError<AnalyticsErrorCode> {}
