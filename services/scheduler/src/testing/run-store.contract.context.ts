import type { OutboxRecord, RunStore } from '../ports/run-store.port';

export interface RunStoreUnderTest {
  store: RunStore;
  /** A second store on its own connections to the same database; concurrency tests split their calls across both. */
  peer?: RunStore;
  cleanup(): Promise<void>;
}

/** What the contract may ask of `make`. */
export interface RunStoreTestOptions {
  /** The store's claim time for outbox rows (ms). */
  outboxClaimMs?: number;
}

/** What the contract's parts share: the current test's store (read at test time) and helpers. */
export interface RunStoreContext {
  readonly store: RunStore;
  readonly subject: RunStoreUnderTest;
  allPending(): Promise<OutboxRecord[]>;
}

let counter = 0;
export const uniqueId = (prefix: string): string => `${prefix}-${process.pid}-${Date.now().toString(36)}-${++counter}`;
export const byKey = (a: { runId: string; stepId: string }, b: { runId: string; stepId: string }): number =>
  `${a.runId}/${a.stepId}`.localeCompare(`${b.runId}/${b.stepId}`);
