import type { Headers } from '@weft/bus';
import type { RunState, RunStatus, TimerKind } from '@weft/core';
import type { WaitCommand, WaitStore } from './wait-store.port';

/**
 * Where the scheduler keeps runs. PostgreSQL (TypeORM) in production, PGlite in
 * embedded mode, memory in unit tests: all pass one contract suite.
 *
 * The store never decides anything: the scheduler hands it a Transition (new
 * state + the messages and timers it causes) and the store writes it atomically.
 *
 * A call that fails because the database cannot be reached rejects with RunStoreError
 * `STORE_UNAVAILABLE` (and wrote nothing, or committed before the connection dropped:
 * callers retry, which is safe because transitions are idempotent).
 */
export interface RunStore {
  /** Database time, epoch ms. Leases and timers use it, never a worker's clock. */
  now(): Promise<number>;

  /** Signals, signal waits and reviews, whose rows transitions write (`Transition.waits`). Absent: a store without durable waits. */
  readonly waits?: WaitStore;

  /** Cancels that named a run before it was created (a trigger's cancel-other); absent: such a cancel finds no run and does nothing. */
  readonly earlyCancels?: EarlyCancelStore;

  /**
   * Inserts a run with its first transition in one transaction, unless a run with
   * this idempotency key already exists in the namespace: then nothing is written and
   * that run's id is returned with `created: false`.
   */
  createRun(idempotencyKey: string, build: (now: number) => Transition, options?: CreateRunOptions): Promise<{ runId: string; created: boolean }>;

  /**
   * Serialises changes to one run: loads it under a lock, calls `decide` with the
   * state and database time, and persists what it returns (nothing when it returns
   * undefined). Resolves with the state after the change, or undefined for an unknown run.
   *
   * `decide` must not mutate the state it is given: it returns a new RunState whose
   * `steps` holds new objects for the steps it changed and the loaded objects for the
   * rest (the SQL store writes only the step rows whose object changed). It is called
   * inside the transaction: keep it synchronous and pure. If it throws, nothing is written.
   * It may be called more than once for one update (the SQL store decides on the state it
   * cached and, when another writer moved the run on meanwhile, again on the reloaded run):
   * only what the last call returned is written.
   */
  updateRun(runId: string, decide: RunDecider, options?: UpdateRunOptions): Promise<RunState | undefined>;

  getRun(runId: string): Promise<RunState | undefined>;
  listRuns(filter?: RunFilter): Promise<RunState[]>;

  /**
   * Outbox rows not yet published and not claimed, oldest first (a run's rows in the
   * order its transitions committed). SQL stores claim the rows for a while
   * (`outboxClaimMs`) so concurrent relays get disjoint rows; a claimed row not marked
   * published is handed out again when the claim lapses. Rows inserted claimed (see
   * `ClaimOutboxOption`) are skipped the same way until their claim lapses. Publishing
   * twice is harmless: the broker drops the repeated msgId.
   */
  pendingOutbox(limit: number): Promise<OutboxRecord[]>;
  /**
   * Marks rows published. A SQL store may hold the marks back a little to write them with the
   * next transition (markLingerMs); `urgent` writes them (and any held back) at once: nothing
   * of the run is coming to carry them (its terminal event).
   */
  markPublished(ids: readonly string[], options?: { urgent?: boolean }): Promise<void>;
  /**
   * Takes rows the broker refuses for good (a permanent publish error: over NATS's
   * max_payload, unserialisable) out of the relay's way: they stay unpublished, carry the
   * reason and when, and `pendingOutbox` never hands them out again. Operators list them
   * (docs/operations.md, "Quarantined outbox rows"); unknown or published ids are ignored.
   */
  quarantineOutbox(rows: readonly { id: string; reason: string }[]): Promise<void>;
  /**
   * Outbox retention, one step: deletes rows published more than `retentionMs` ago among the
   * next `batch` after `after`, and says where to go on (undefined: the pass is done). SQL
   * stores keep published rows (operators read them) until this removes them; a store that
   * drops a row when it is marked published (MemoryRunStore) has none.
   */
  prunePublishedOutbox?(retentionMs: number, batch: number, after?: string): Promise<{ deleted: number; next: string | undefined }>;

  /** Timers with fireAt <= now, oldest first. A timer is removed when a transition cancels it. */
  dueTimers(now: number, limit: number): Promise<TimerRecord[]>;
  /** The earliest pending timer, so the scheduler can sleep until then. */
  nextTimerAt(): Promise<number | undefined>;
  /** Queued or running steps whose lease expired (the worker went silent). */
  expiredLeases(now: number, limit: number): Promise<LeaseRef[]>;
  /**
   * Optional, one round trip for what a timer scan reads: database time, the timers due by
   * then and the expired leases (each at most `limit`, as `dueTimers` / `expiredLeases`), and
   * the earliest pending timer. Without it the scan calls `now`, `dueTimers`, `expiredLeases`
   * and `nextTimerAt` one by one.
   */
  scanDue?(limit: number): Promise<DueScan>;

  /** Counts for metrics, read on every Prometheus scrape: keep it one cheap query. Ages are database time. */
  stats(): Promise<RunStoreStats>;

  /** Waits for calls in flight. A SQL store then rejects new calls; its DataSource stays the caller's to destroy. */
  close(): Promise<void>;
}

/**
 * Cancels that arrived before their run (`weft.run.cancel-requested` for a run id the store does
 * not hold yet). The cancel remembers itself, then looks for the run again; the run, once created,
 * takes its cancel: whichever comes first, they meet (DESIGN.md §8). Entries no run takes are
 * dropped after a day (`EARLY_CANCEL_TTL_MS`).
 */
export interface EarlyCancelStore {
  /** Keeps the cancel (a repeated run id keeps the first reason). */
  remember(runId: string, reason: string): Promise<void>;
  /** The reason of the cancel kept for this run, removed as it is read; undefined when none. */
  take(runId: string): Promise<string | undefined>;
}

/** How long a cancel waits for its run to be created. */
export const EARLY_CANCEL_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * What `updateRun` calls under the run's lock with the state and database time: in the
 * scheduler, RunEventDecision.decide (usecases/apply-event.usecase.ts), one engine event
 * decided by the core. Returns the transition to write, or undefined for no change.
 */
export type RunDecider = (state: RunState, now: number) => Transition | undefined;

export interface CreateRunOptions extends ClaimOutboxOption {
  /** The run's namespace; idempotency keys are unique per namespace. @default the store's own (`default`) */
  namespace?: string;
}

export interface ClaimOutboxOption {
  /**
   * Publish from the committing process. When set, the call's outbox rows are inserted
   * already claimed by this store (as `pendingOutbox` claims rows: for the store's claim
   * time, `outboxClaimMs` in the SQL store, counted from the insert), and handed to this
   * function right after the commit, before the call resolves: in outbox order, with the
   * ids, run id and creation time they were written with. Not called when the call wrote
   * no rows (or failed).
   *
   * The caller publishes them and passes the ids it published to `markPublished`. A row
   * it does not mark (its publish failed, or the process died first) is handed out by
   * `pendingOutbox` once the claim lapses; publishing it twice is harmless (the broker
   * drops the repeated msgId). Keep it synchronous and let it not throw.
   */
  claimOutbox?: (rows: readonly OutboxRecord[]) => void;
}

export interface RunStoreStats {
  /** Runs in a non-terminal status, by status (statuses with none are absent). */
  activeRuns: Partial<Record<RunStatus, number>>;
  /** Age of the oldest non-terminal run (ms since it was created); undefined when there is none. */
  oldestActiveRunAgeMs?: number;
  /** Outbox messages not yet published (quarantined ones excluded). */
  outboxBacklog: number;
  /** Outbox messages quarantined (the broker refused them for good); absent when none. */
  outboxQuarantined?: number;
  /** Age of the oldest unpublished outbox message (ms); undefined when there is none. */
  oldestOutboxAgeMs?: number;
}

export interface UpdateRunOptions extends ClaimOutboxOption {
  /**
   * A change a database crash may lose without harm (heartbeats: a lost one leaves the
   * step queued under the lease of its dispatch, and the next heartbeat or the result
   * moves it on). The SQL store then commits without waiting for the WAL flush.
   * @default false
   */
  relaxed?: boolean;
}

export interface RunFilter {
  workflow?: string;
  status?: RunStatus[];
  limit?: number;
}

export interface OutboxMessage {
  /** `publish` goes to a durable stream; `broadcast` to every live listener (cancel). */
  kind: 'publish' | 'broadcast';
  subject: string;
  payload: unknown;
  /** Broker de-duplication id: a re-published row is dropped by the broker. */
  msgId: string;
  headers?: Headers;
}

export interface OutboxRecord extends OutboxMessage {
  id: string;
  runId: string;
  createdAt: number;
}

export interface TimerKey {
  runId: string;
  timer: TimerKind;
  /** Empty for run-level timers. */
  stepId: string;
  /**
   * On a cancel: drop the timer only while it fires no later than this (epoch ms). A fired timer is
   * canceled so: another replica's stale fire of it must not drop the same key scheduled again later.
   */
  fireAt?: number;
}

export interface TimerRecord extends TimerKey {
  attempt?: number;
  fireAt: number;
}

/** What `scanDue` reads in one round trip. */
export interface DueScan {
  now: number;
  timers: TimerRecord[];
  leases: LeaseRef[];
  /** The earliest pending timer (due ones included), as `nextTimerAt`. */
  nextTimerAt: number | undefined;
  /** False when no signal delivery waits (`waits.pendingDeliveries` would be empty): the scan skips that read. */
  deliveriesPending?: boolean;
  /** False when no outbox row is up for the relay (`pendingOutbox` would be empty): the scan does not kick it. */
  outboxPending?: boolean;
}

export interface LeaseRef {
  runId: string;
  stepId: string;
  attempt: number;
}

export interface Transition {
  state: RunState;
  outbox: OutboxMessage[];
  /** Upserted by key: a step has at most one timer of each kind. */
  schedule: TimerRecord[];
  cancel: TimerKey[];
  /** Signal waits and reviews to write, in order (see WaitStore). Absent: none. */
  waits?: WaitCommand[];
}

export const timerKey = (t: TimerKey): string => `${t.runId}|${t.timer}|${t.stepId}`;
