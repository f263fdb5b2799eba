import { changedSteps, type RunState, type StepState, stepIn, TERMINAL_RUN_STATUSES } from '@weft/core';
import { DEFAULT_NAMESPACE } from '@weft/contracts';
import {
  type CreateRunOptions,
  type LeaseRef,
  type OutboxMessage,
  type OutboxRecord,
  type RunFilter,
  type RunStore,
  type RunStoreStats,
  type TimerRecord,
  type Transition,
  timerKey,
  type UpdateRunOptions,
} from '../ports/run-store.port';
import { assertCreatedIn } from './run-store.errors';
import { MemoryWaitStore } from './memory-wait.store';
import { MemoryEarlyCancels } from './early-cancels.store';

export interface MemoryRunStoreOptions {
  /** How long rows inserted claimed (`claimOutbox`) are skipped by `pendingOutbox` (ms). @default 15000 */
  outboxClaimMs?: number;
}

/**
 * A RunStore in process memory: embedded runs that need no durability, and tests.
 * Per-run serialisation comes from a promise chain per run id.
 */
export class MemoryRunStore implements RunStore {
  private readonly runs = new Map<string, RunState>();
  private readonly idempotency = new Map<string, string>();
  private readonly outbox = new Map<string, OutboxRecord>();
  private readonly quarantined = new Map<string, { row: OutboxRecord; reason: string }>();
  /** Rows inserted claimed (`claimOutbox`), until when (clock ms). */
  private readonly claims = new Map<string, number>();
  private readonly outboxClaimMs: number;
  private readonly timers = new Map<string, TimerRecord>();
  private readonly locks = new Map<string, Promise<unknown>>();
  /**
   * Per unfinished run, its steps that hold a lease (queued or running, `leaseExpiresAt` set), kept
   * from each write's changed steps: `expiredLeases`, every poll, reads these instead of every step
   * of every unfinished run (~20 ms a poll beside a 20,000-step run; issue 15, W6).
   */
  private readonly leased = new Map<string, Map<string, StepState>>();
  private outboxSeq = 0;
  /** Signals, signal waits and reviews; each transition's wait commands are applied to it. */
  readonly waits: MemoryWaitStore;
  readonly earlyCancels: MemoryEarlyCancels;

  constructor(
    private readonly clock: () => number = Date.now,
    options: MemoryRunStoreOptions = {},
  ) {
    this.outboxClaimMs = options.outboxClaimMs ?? 15_000;
    this.waits = new MemoryWaitStore(clock, () => this.runs.values());
    this.earlyCancels = new MemoryEarlyCancels(clock);
  }

  async now(): Promise<number> {
    return this.clock();
  }

  async createRun(idempotencyKey: string, build: (now: number) => Transition, options: CreateRunOptions = {}): Promise<{ runId: string; created: boolean }> {
    // Keys are unique per namespace.
    const namespace = options.namespace ?? DEFAULT_NAMESPACE;
    const key = `${namespace}\u0000${idempotencyKey}`;
    const existing = this.idempotency.get(key);
    if (existing) return { runId: existing, created: false };
    const transition = build(this.clock());
    assertCreatedIn(transition.state, namespace);
    const runId = transition.state.runId;
    if (this.runs.has(runId)) return { runId, created: false };
    this.idempotency.set(key, runId);
    const rows = this.apply(transition, options.claimOutbox !== undefined);
    handOver(rows, options.claimOutbox);
    return { runId, created: true };
  }

  updateRun(runId: string, decide: (state: RunState, now: number) => Transition | undefined, options: UpdateRunOptions = {}): Promise<RunState | undefined> {
    const previous = this.locks.get(runId) ?? Promise.resolve();
    const next = previous.then(() => {
      const state = this.runs.get(runId);
      if (!state) return undefined;
      const transition = decide(state, this.clock());
      if (!transition) return state;
      const rows = this.apply(transition, options.claimOutbox !== undefined);
      handOver(rows, options.claimOutbox);
      return transition.state;
    });
    const settled = next.catch(() => undefined);
    this.locks.set(runId, settled);
    void settled.then(() => {
      if (this.locks.get(runId) === settled) this.locks.delete(runId);
    });
    return next;
  }

  async getRun(runId: string): Promise<RunState | undefined> {
    return this.runs.get(runId);
  }

  async listRuns(filter: RunFilter = {}): Promise<RunState[]> {
    const all = [...this.runs.values()]
      .filter((r) => !filter.workflow || r.workflow === filter.workflow)
      .filter((r) => !filter.status || filter.status.includes(r.status))
      .sort((a, b) => b.createdAt - a.createdAt);
    return all.slice(0, filter.limit ?? all.length);
  }

  async pendingOutbox(limit: number): Promise<OutboxRecord[]> {
    const now = this.clock();
    const out: OutboxRecord[] = [];
    for (const row of this.outbox.values()) {
      if (out.length >= limit) break;
      const claimedUntil = this.claims.get(row.id);
      if (claimedUntil !== undefined && claimedUntil > now) continue;
      this.claims.delete(row.id);
      out.push(row);
    }
    return out;
  }

  async markPublished(ids: readonly string[]): Promise<void> {
    for (const id of ids) {
      this.outbox.delete(id);
      this.claims.delete(id);
    }
  }

  async quarantineOutbox(rows: readonly { id: string; reason: string }[]): Promise<void> {
    for (const { id, reason } of rows) {
      const row = this.outbox.get(id);
      if (row === undefined) continue;
      this.outbox.delete(id);
      this.claims.delete(id);
      this.quarantined.set(id, { row, reason });
    }
  }

  /** Quarantined rows with their reasons (tests read them). */
  quarantinedOutbox(): { row: OutboxRecord; reason: string }[] {
    return [...this.quarantined.values()];
  }

  async dueTimers(now: number, limit: number): Promise<TimerRecord[]> {
    return [...this.timers.values()]
      .filter((t) => t.fireAt <= now)
      .sort((a, b) => a.fireAt - b.fireAt)
      .slice(0, limit);
  }

  async nextTimerAt(): Promise<number | undefined> {
    let next: number | undefined;
    for (const t of this.timers.values()) if (next === undefined || t.fireAt < next) next = t.fireAt;
    return next;
  }

  async expiredLeases(now: number, limit: number): Promise<LeaseRef[]> {
    const out: LeaseRef[] = [];
    for (const [runId, steps] of this.leased) {
      const run = this.runs.get(runId);
      if (run === undefined) continue;
      for (const step of steps.values()) {
        // Still the run's current step (a step dropped from the record is not in changedSteps' answer).
        if (step.leaseExpiresAt !== undefined && step.leaseExpiresAt <= now && stepIn(run.steps, step.id) === step) {
          out.push({ runId, stepId: step.id, attempt: step.attempt });
          if (out.length >= limit) return out;
        }
      }
    }
    return out;
  }

  /**
   * Keeps `leased` in step with a write: O(steps the write changed) between two versions of one
   * steps record (changedSteps skips shared chunks); every step when the run is new or comes back
   * from a terminal state (a retry), since the old scan skipped terminal runs whatever their steps held.
   */
  private indexLeases(before: RunState | undefined, after: RunState): void {
    const runId = after.runId;
    if (TERMINAL_RUN_STATUSES.includes(after.status)) {
      this.leased.delete(runId);
      return;
    }
    let changed: Iterable<StepState>;
    if (before === undefined || TERMINAL_RUN_STATUSES.includes(before.status)) changed = everyStep(after);
    else if (before.steps === after.steps) return;
    else changed = changedSteps(before.steps, after.steps);
    let steps = this.leased.get(runId);
    for (const step of changed) {
      if ((step.status === 'queued' || step.status === 'running') && step.leaseExpiresAt !== undefined) {
        if (steps === undefined) this.leased.set(runId, (steps = new Map()));
        steps.set(step.id, step);
      } else {
        steps?.delete(step.id);
      }
    }
    if (steps?.size === 0) this.leased.delete(runId);
  }

  async stats(): Promise<RunStoreStats> {
    const now = this.clock();
    const activeRuns: RunStoreStats['activeRuns'] = {};
    let oldestRun: number | undefined;
    for (const run of this.runs.values()) {
      if (TERMINAL_RUN_STATUSES.includes(run.status)) continue;
      activeRuns[run.status] = (activeRuns[run.status] ?? 0) + 1;
      oldestRun = Math.min(oldestRun ?? run.createdAt, run.createdAt);
    }
    let oldestMessage: number | undefined;
    for (const message of this.outbox.values()) oldestMessage = Math.min(oldestMessage ?? message.createdAt, message.createdAt);
    const stats: RunStoreStats = { activeRuns, outboxBacklog: this.outbox.size };
    if (this.quarantined.size > 0) stats.outboxQuarantined = this.quarantined.size;
    if (oldestRun !== undefined) stats.oldestActiveRunAgeMs = Math.max(0, now - oldestRun);
    if (oldestMessage !== undefined) stats.oldestOutboxAgeMs = Math.max(0, now - oldestMessage);
    return stats;
  }

  async close(): Promise<void> {
    await Promise.all(this.locks.values());
  }

  /** Writes a transition; returns the outbox rows it inserted. */
  private apply(transition: Transition, claim: boolean): OutboxRecord[] {
    const { state } = transition;
    const before = this.runs.get(state.runId);
    this.runs.set(state.runId, state);
    this.indexLeases(before, state);
    for (const key of transition.cancel) {
      const existing = this.timers.get(timerKey(key));
      if (key.fireAt === undefined || (existing !== undefined && existing.fireAt <= key.fireAt)) this.timers.delete(timerKey(key));
    }
    for (const timer of transition.schedule) this.timers.set(timerKey(timer), timer);
    if (transition.waits !== undefined) this.waits.applyTransition(state, transition.waits);
    const now = this.clock();
    const rows: OutboxRecord[] = [];
    for (const message of transition.outbox) {
      const id = String(++this.outboxSeq).padStart(12, '0');
      const row = outboxRecord(message, id, state.runId, now);
      this.outbox.set(id, row);
      if (claim) this.claims.set(id, now + this.outboxClaimMs);
      rows.push(row);
    }
    return rows;
  }
}

/** Every step of a run. Keys, then each step by id: Object.values on the steps record costs two proxy traps per step. */
function* everyStep(state: RunState): Generator<StepState> {
  for (const id of Reflect.ownKeys(state.steps)) {
    const step = typeof id === 'string' ? stepIn(state.steps, id) : undefined;
    if (step !== undefined) yield step;
  }
}

/** Rows inserted claimed go to the caller; a throwing callback cannot undo the commit (the rows go out through the relay). */
function handOver(rows: readonly OutboxRecord[], claimOutbox: ((rows: readonly OutboxRecord[]) => void) | undefined): void {
  if (rows.length === 0 || claimOutbox === undefined) return;
  try {
    claimOutbox(rows);
  } catch {
    // The rows stay claimed; pendingOutbox hands them out once the claim lapses.
  }
}

/** Every field an outbox row copies from its message: a field added to OutboxMessage fails to compile here until it is copied. */
type CopiedFields = 'kind' | 'subject' | 'payload' | 'msgId' | 'headers';
const allFieldsCopied: Exclude<keyof OutboxMessage, CopiedFields> extends never ? true : never = true;

/**
 * A row built field by field, so every row has the same shape (a spread takes each message's own
 * shape, which varies with where the message was built): `apply` fell from ~4-5 % of embedded W2's
 * CPU to ~1 % (docs/benchmarks.md, embedded hot path).
 */
function outboxRecord(message: OutboxMessage, id: string, runId: string, createdAt: number): OutboxRecord {
  void allFieldsCopied;
  const row: OutboxRecord = { kind: message.kind, subject: message.subject, payload: message.payload, msgId: message.msgId, id, runId, createdAt };
  if (message.headers !== undefined) row.headers = message.headers;
  return row;
}
