import { type RunState, TERMINAL_RUN_STATUSES } from '@weft/core';
import { DEFAULT_NAMESPACE } from '@weft/contracts';
import {
  type CreateRunOptions,
  type LeaseRef,
  type OutboxRecord,
  type RunFilter,
  type RunStore,
  type RunStoreStats,
  type TimerRecord,
  type Transition,
  timerKey,
} from '../ports/run-store.port';
import { assertCreatedIn } from './run-store.errors';

/**
 * A RunStore in process memory: embedded runs that need no durability, and tests.
 * Per-run serialisation comes from a promise chain per run id.
 */
export class MemoryRunStore implements RunStore {
  private readonly runs = new Map<string, RunState>();
  private readonly idempotency = new Map<string, string>();
  private readonly outbox = new Map<string, OutboxRecord>();
  private readonly timers = new Map<string, TimerRecord>();
  private readonly locks = new Map<string, Promise<unknown>>();
  private outboxSeq = 0;

  constructor(private readonly clock: () => number = Date.now) {}

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
    this.apply(transition);
    return { runId, created: true };
  }

  updateRun(runId: string, decide: (state: RunState, now: number) => Transition | undefined): Promise<RunState | undefined> {
    const previous = this.locks.get(runId) ?? Promise.resolve();
    const next = previous.then(() => {
      const state = this.runs.get(runId);
      if (!state) return undefined;
      const transition = decide(state, this.clock());
      if (!transition) return state;
      this.apply(transition);
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
    return [...this.outbox.values()].slice(0, limit);
  }

  async markPublished(ids: readonly string[]): Promise<void> {
    for (const id of ids) this.outbox.delete(id);
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
    for (const run of this.runs.values()) {
      if (TERMINAL_RUN_STATUSES.includes(run.status)) continue;
      for (const step of Object.values(run.steps)) {
        if ((step.status === 'queued' || step.status === 'running') && step.leaseExpiresAt !== undefined && step.leaseExpiresAt <= now) {
          out.push({ runId: run.runId, stepId: step.id, attempt: step.attempt });
          if (out.length >= limit) return out;
        }
      }
    }
    return out;
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
    if (oldestRun !== undefined) stats.oldestActiveRunAgeMs = Math.max(0, now - oldestRun);
    if (oldestMessage !== undefined) stats.oldestOutboxAgeMs = Math.max(0, now - oldestMessage);
    return stats;
  }

  async close(): Promise<void> {
    await Promise.all(this.locks.values());
  }

  private apply(transition: Transition): void {
    const { state } = transition;
    this.runs.set(state.runId, state);
    for (const key of transition.cancel) this.timers.delete(timerKey(key));
    for (const timer of transition.schedule) this.timers.set(timerKey(timer), timer);
    for (const message of transition.outbox) {
      const id = String(++this.outboxSeq).padStart(12, '0');
      this.outbox.set(id, { ...message, id, runId: state.runId, createdAt: this.clock() });
    }
  }
}
