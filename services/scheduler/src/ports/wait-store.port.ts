import type { Actor, ReceivedSignal, ReviewDecision, SignalSend } from '@weft/contracts';

/** One audit record: who changed what, when (database time). */
export interface AuditRecord {
  id: string;
  at: number;
  namespace: string;
  actor: Actor;
  /** `signal.sent`, `review.decided`, `workflow.created`, `run.canceled`, ... (docs/waits-and-reviews.md). */
  action: string;
  target: { kind: string; id: string };
  details: Record<string, unknown>;
}

export const EXCEPTION_KINDS = ['review', 'low-confidence', 'blocked', 'failed', 'dead-letter'] as const;
export type ExceptionKind = (typeof EXCEPTION_KINDS)[number];

export interface ExceptionItem {
  kind: ExceptionKind;
  /**
   * The review id; the run id for `failed` and a stuck run's `blocked`; `queue:<name>` for a queue
   * with dispatched work and no live worker (`blocked`); `outbox:<row id>` (this store's) or
   * `bus:<digest>` (BusDeadLetters) for a `dead-letter`.
   */
  id: string;
  workflow: string;
  runId: string;
  stepId?: string;
  /** The review's title, or the run's error. */
  summary: string;
  /** When it started needing a person (the review opened, the run failed). */
  at: number;
  resolved?: { note: string; actor: Actor; at: number };
}

export interface ExceptionQuery {
  kind?: ExceptionKind;
  workflow?: string;
  since?: number;
  /** Include resolved items. @default false */
  resolved?: boolean;
  /**
   * A running run with steps dispatched (queued or running) and no change for this long is
   * `blocked` (WEFT_STUCK_AFTER); absent, no run is listed as stuck.
   */
  stuckAfterMs?: number;
  /**
   * The queues live workers serve now (worker announcements; `all` when one serves every queue):
   * a queue with dispatched (queued) steps outside them is `blocked`. Absent, no queue is listed.
   */
  liveQueues?: readonly string[] | 'all';
  limit: number;
  after?: { at: number; id: string };
}

export interface AuditQuery {
  target?: { kind: string; id: string };
  /** An API key id, or `local`. */
  actor?: string;
  action?: string;
  /** Epoch ms: at or after. */
  since?: number;
  limit: number;
  after?: { at: number; id: string };
}
import type { Command, RunState } from '@weft/core';

/**
 * Durable waits as rows: signals (outside events), the signal waits of `wait.event`
 * steps, deliveries (a wait and a signal that met, to be handed to the core) and reviews.
 *
 * Wait and review rows change only with a run's transition (`Transition.waits`, written
 * in the transition's transaction by the RunStore). This port reads them and stores
 * signals. A wait and a signal meet exactly once whichever comes first: registering a
 * wait looks for stored signals since `since`, storing a signal looks for registered
 * waits, both under one lock per (namespace, name, key), and each meeting becomes a
 * delivery row. Whether the signal satisfies the wait (`match`) is the core's to say when
 * the delivery is applied (`signal.received`); a delivery that does not is dropped.
 */
export interface WaitStore {
  /**
   * Stores a signal (a repeated id in the namespace is the same signal: `created` false,
   * nothing written) and records a delivery for every registered wait it meets.
   */
  storeSignal(namespace: string, signal: SignalSend & { id: string }, actor: Actor): Promise<{ signal: StoredSignal; created: boolean }>;
  listSignals(namespace: string, query: SignalQuery): Promise<Page<StoredSignal>>;
  /** Deliveries not yet applied, earliest signal first. */
  pendingDeliveries(limit: number): Promise<Delivery[]>;
  /**
   * The delivery was applied (or could not apply): forget it. A wait's lookback is handed over a
   * page of stored signals at a time; true when this drop used up a page of a wait that still
   * waits and the next page is now pending.
   */
  dropDelivery(delivery: Pick<Delivery, 'runId' | 'stepId' | 'signal'>): Promise<boolean>;
  /** Removes signals received before `before` (epoch ms); returns how many. */
  purgeSignals(before: number): Promise<number>;

  getReview(namespace: string, id: string): Promise<ReviewRecord | undefined>;
  listReviews(namespace: string, query: ReviewQuery): Promise<Page<ReviewRecord>>;
  /**
   * The audit log of a namespace, oldest first. Rows are appended in the transaction of the
   * change they record (a stored signal, a review decision); nothing updates or deletes them.
   */
  listAudit(namespace: string, query: AuditQuery): Promise<Page<AuditRecord>>;
  /**
   * Appends one audit record (database time) for a change whose use case keeps no
   * transaction of its own here (workflows, keys, run control): written right after the
   * change commits, so a crash between the two loses the record, never invents one.
   */
  appendAudit(namespace: string, actor: Actor, action: string, target: AuditRecord['target'], details: Record<string, unknown>): Promise<void>;
  /**
   * What needs a person, oldest first: open reviews (`review`, `low-confidence` when opened by a
   * `when` rule, `blocked` when overdue at the last tier), failed runs (`failed`), stuck runs and
   * queues without a live worker (`blocked`), quarantined outbox rows (`dead-letter`). Resolved
   * items are left out unless asked for.
   */
  listExceptions(namespace: string, query: ExceptionQuery): Promise<Page<ExceptionItem>>;
  /**
   * Resolves an item with a note (and an audit record); `unknown` when the namespace has no such item, `already` when resolved before.
   * `listedElsewhere`: the caller found the item outside this store (a bus dead letter), so only the resolution is written.
   */
  resolveException(namespace: string, kind: ExceptionKind, id: string, note: string, actor: Actor, options?: { listedElsewhere?: boolean }): Promise<'resolved' | 'already' | 'unknown'>;
  /** The resolutions of these items of the namespace (items kept outside this store: bus dead letters). */
  listResolutions(namespace: string, kind: ExceptionKind, ids: readonly string[]): Promise<Map<string, NonNullable<ExceptionItem['resolved']>>>;
  /** Open reviews and waits per namespace, for metrics and tests. */
  counts(): Promise<{ signals: number; waits: number; deliveries: number; reviews: number }>;
}

export interface StoredSignal extends ReceivedSignal {
  namespace: string;
}

export interface SignalQuery {
  name?: string;
  key?: string;
  /** Epoch ms: received at or after. */
  since?: number;
  limit: number;
  /** Continue after this (receivedAt, id): a decoded cursor. */
  after?: { at: number; id: string };
}

export interface ReviewQuery {
  status?: 'open' | 'decided' | 'canceled';
  workflow?: string;
  assignee?: string;
  limit: number;
  /** Continue after this (openedAt, id): a decoded cursor. */
  after?: { at: number; id: string };
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** A stored signal that met a registered wait: the core decides whether it satisfies it. */
export interface Delivery {
  runId: string;
  stepId: string;
  token: string;
  signal: ReceivedSignal;
}

export type ReviewStatus = 'open' | 'decided' | 'canceled';

export interface ReviewRecord {
  id: string;
  namespace: string;
  runId: string;
  workflow: string;
  stepId: string;
  attempt: number;
  status: ReviewStatus;
  title: string;
  instructions?: string;
  assignees: string[];
  tier: number;
  overdue: boolean;
  /** Opened by a `when` rule (a low-confidence output). */
  byRule: boolean;
  form?: Record<string, unknown>;
  output: unknown;
  openedAt: number;
  deadlineAt?: number;
  decidedAt?: number;
  decision?: ReviewDecision;
  actor?: Actor;
  comment?: string;
  payload?: unknown;
  decisionId?: string;
}

/** The core's commands that become wait and review rows (see toTransition). */
export type WaitCommand = Extract<Command, { type: 'register-wait' | 'cancel-wait' | 'open-review' | 'escalate-review' | 'close-review' }>;

export const WAIT_COMMANDS: ReadonlySet<Command['type']> = new Set(['register-wait', 'cancel-wait', 'open-review', 'escalate-review', 'close-review']);
export const isWaitCommand = (command: Command): command is WaitCommand => WAIT_COMMANDS.has(command.type);

/** What a run's transition writes besides its state: the run it belongs to and its wait commands in order. */
export interface WaitRows {
  state: RunState;
  commands: readonly WaitCommand[];
}
