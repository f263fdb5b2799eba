import type { RateLimitStore } from './rate-limit-store.port';

/**
 * Concurrency slots across runs (docs/flow-control.md): leases per (namespace, scope, key) with
 * at most `limit` holders. Times are the store's (database) clock.
 */
export interface SlotRequest {
  token: string;
  namespace: string;
  /** `<workflow>/<step>`: the limit's owner. */
  scope: string;
  key: string;
  runId: string;
  stepId: string;
  /** 1 goes first. */
  priority: number;
  limit: number;
  /** A request over the limit: waits, evicts the oldest holder, or is refused (a workflow's own limit). @default queue */
  strategy?: 'queue' | 'cancel-in-progress' | 'cancel-newest';
}

export interface SlotGrant {
  token: string;
  runId: string;
  stepId: string;
  /** Set when the strategy took the slot away (an evicted holder) or refused it (a request over the limit): cancel the run. */
  canceled?: string;
}

export interface SlotHolder {
  token: string;
  runId: string;
  stepId: string;
  grantedAt: number;
  expiresAt: number;
}

export interface SlotStore {
  /** The rate limits' TATs, kept in the same place as the slots (the same database, or memory). */
  readonly rates: RateLimitStore;
  /** Queues a request; a token already known (queued, held or released) changes nothing. */
  request(request: SlotRequest): Promise<void>;
  /** Frees a held slot or drops a queued request; remembers the token so a late request grants nothing. */
  release(token: string, where: { namespace: string; scope: string; key: string; runId: string; stepId: string }): Promise<void>;
  /**
   * Under one lock per (namespace, scope): treats leases past expiry as free, then grants queued
   * requests while their key has fewer than `limit` holders, round-robin across keys and by
   * (priority, request time) within a key, after the cancel strategies (applyStrategies). Returns
   * the grants (their leases last `leaseMs`), and the refused and evicted (`canceled` set; released).
   */
  grant(namespace: string, scope: string, leaseMs: number): Promise<SlotGrant[]>;
  /** Scopes with queued requests. */
  queuedScopes(): Promise<{ namespace: string; scope: string }[]>;
  /** Held slots whose lease ends within `withinMs`. */
  expiring(withinMs: number, limit: number): Promise<(SlotHolder & { namespace: string; scope: string })[]>;
  /** Extends the leases of these tokens by `leaseMs` from now. */
  renew(tokens: readonly string[], leaseMs: number): Promise<void>;
  /** Deletes released rows released more than `retentionMs` ago (their tombstone has done its job). Returns how many. */
  purge(retentionMs: number): Promise<number>;
  /** Who holds slots of (namespace, scope, key), for `why`. */
  holders(namespace: string, scope: string, key: string): Promise<SlotHolder[]>;
}
