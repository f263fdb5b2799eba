/** One permit request of a rate limit (docs/flow-control.md). */
export interface RateReservation {
  namespace: string;
  /** `<workflow>/<step>`: the limit's owner. */
  scope: string;
  key: string;
  limit: number;
  periodMs: number;
  burst: number;
}

/**
 * Rate limits across runs and scheduler replicas: one theoretical arrival time (TAT) per
 * (namespace, scope, key), moved by `gcraReserve` (@weft/core) in one atomic step. Times are the
 * store's (database) clock.
 */
export interface RateLimitStore {
  /** Reserves the next start of the key: `startAt` is when it may start (now, or later when over the limit). */
  reserve(r: RateReservation): Promise<{ startAt: number }>;
  /** Forgets keys whose TAT passed (such a key behaves exactly as one never used). Returns how many went. */
  purge(): Promise<number>;
}
