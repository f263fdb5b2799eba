import type { RunState } from '@weft/core';
import type { ClaimOutboxOption, RunDecider } from '../ports/run-store.port';
import type { RunBatch, RunBatchWriter } from './run-batch.writer';

/** One updateRun call waiting for its run's next batch. */
export interface PendingUpdate {
  /** RunEventDecision.decide (usecases/apply-event.usecase.ts) in the scheduler. */
  decide: RunDecider;
  relaxed: boolean;
  claimOutbox: ClaimOutboxOption['claimOutbox'];
  resolve: (state: RunState | undefined) => void;
  reject: (error: unknown) => void;
}

interface Submitted {
  batch: RunBatch;
  done: () => void;
  settled: Promise<void>;
}

/** Bounds one run's share of a transaction; the rest of its queue goes in the next one. */
const MAX_UPDATES_PER_TRANSACTION = 128;

/** Writes (statements or transactions) of this process's runs in the database at once; batches ready meanwhile wait and go together. */
const GROUPS_IN_FLIGHT = 6;

/** Runs in one write at most (group commit). */
const MAX_RUNS_PER_GROUP = 8;

/**
 * Fair share across runs. A batch of at most SMALL_BATCH calls is a small run's turn (a chain's
 * next step, a heartbeat): it never waits for another run. A run with more waiting (a big run,
 * 64 steps in flight) while another run took a small batch in the last OTHERS_RECENT_MS takes
 * turns: it lets the other runs' batches already ready or in a
 * transaction settle first, takes at most SHARED_MAX_UPDATES per transaction, and while this
 * event loop is busier than PACE_UTILIZATION waits (2 ms at a time, at most as long as its
 * previous transaction took and PACE_MAX_MS), so the small runs' messages and database answers
 * are not queued behind its work. Alone it goes as before, 128 at a time, at once.
 */
const SMALL_BATCH = 4;
const OTHERS_RECENT_MS = 250;
const SHARED_MAX_UPDATES = 32;
const PACE_UTILIZATION = 0.6;
const PACE_MAX_MS = 40;

export interface FairShareOptions {
  /** false: batches in the order they became ready, a big run never held back (the behaviour before 2026-12-06, session 5). @default true */
  enabled?: boolean;
  /** This event loop's recent utilisation (0..1); tests inject it. @default performance.eventLoopUtilization over the last 50-100 ms */
  utilization?: () => number;
}

/**
 * Per-run batching of updateRun calls in this process: calls for one run are queued and
 * handed to RunBatchWriter.commit in batches, one transaction (lock, decide each in turn,
 * one merged write, commit) for everything that arrived while the previous batch was in
 * the database. Replicas still serialise on the row lock.
 *
 * Across runs, group commit: at most GROUPS_IN_FLIGHT writes at a time; the batches of
 * other runs that become ready meanwhile go into the next write together (up to
 * MAX_RUNS_PER_GROUP), one commit and WAL flush for many runs: one statement when every run
 * of the group is cached and fits it, else one transaction (RunBatchWriter.commitGroup). A lone run (a chain)
 * still goes at once, alone.
 */
export class RunUpdateBatcher {
  private readonly queues = new Map<string, PendingUpdate[]>();
  /** Batches waiting for a transaction, each with what to call once it settled. */
  private readonly ready: Submitted[] = [];
  /** Every batch ready or in a transaction now, by run. */
  private readonly busy = new Map<string, Set<Submitted>>();
  private inFlight = 0;
  /** When each run last took a small batch (pruned as it is read). */
  private readonly smallAt = new Map<string, number>();
  private readonly fair: boolean;
  private readonly utilization: () => number;
  /** Writes started, the batches and calls they carried, and the batches that waited for a write in flight to finish (diagnostics). */
  readonly stats = { writes: 0, batches: 0, calls: 0, waited: 0 };
  private eluPrev = performance.eventLoopUtilization();
  private eluMark = this.eluPrev;

  constructor(
    private readonly writer: Pick<RunBatchWriter, 'commitGroup'>,
    /** How long a lone relaxed update (a heartbeat) waits for more of its run (ms); 0 turns it off. */
    private readonly relaxedLingerMs: number,
    fairShare: FairShareOptions = {},
  ) {
    this.fair = fairShare.enabled ?? true;
    this.utilization = fairShare.utilization ?? (() => this.loopUtilization());
  }

  /** Settles when the batch holding `update` committed (or failed). */
  enqueue(runId: string, update: Omit<PendingUpdate, 'resolve' | 'reject'>): Promise<RunState | undefined> {
    return new Promise<RunState | undefined>((resolve, reject) => {
      const pending: PendingUpdate = { ...update, resolve, reject };
      const queue = this.queues.get(runId);
      if (queue) {
        queue.push(pending);
        return;
      }
      this.queues.set(runId, [pending]);
      void this.drain(runId);
    });
  }

  private async drain(runId: string): Promise<void> {
    let lastMs = 0;
    for (;;) {
      const queue = this.queues.get(runId);
      if (!queue || queue.length === 0) {
        this.queues.delete(runId);
        return;
      }
      if (queue.length === 1 && queue[0].relaxed && this.relaxedLingerMs > 0) {
        // A lone heartbeat waits a moment for the result that often follows it.
        await new Promise((resolve) => setTimeout(resolve, this.relaxedLingerMs));
      }
      let cap = MAX_UPDATES_PER_TRANSACTION;
      if (this.fair && queue.length > SMALL_BATCH) {
        // Only the batches of other runs started before this one are waited for: bounded.
        await this.othersSettled(runId);
        if (this.othersRecent(runId)) {
          cap = SHARED_MAX_UPDATES;
          await this.pace(runId, Math.min(PACE_MAX_MS, lastMs));
        }
      }
      const calls = queue.splice(0, cap);
      if (calls.length <= SMALL_BATCH) this.smallAt.set(runId, performance.now());
      const started = performance.now();
      await this.submit({ runId, calls });
      lastMs = performance.now() - started;
    }
  }

  /** Whether another run took a small batch in the last OTHERS_RECENT_MS. */
  private othersRecent(runId: string): boolean {
    const now = performance.now();
    for (const [other, at] of this.smallAt) {
      if (now - at > OTHERS_RECENT_MS) this.smallAt.delete(other);
      else if (other !== runId) return true;
    }
    return false;
  }

  /** Utilisation of this event loop over the last 50-100 ms. */
  private loopUtilization(): number {
    const now = performance.eventLoopUtilization();
    if (now.idle + now.active - (this.eluMark.idle + this.eluMark.active) > 50) {
      this.eluPrev = this.eluMark;
      this.eluMark = now;
    }
    return performance.eventLoopUtilization(now, this.eluPrev).utilization;
  }

  /** Waits (at most `maxMs`) while the loop is busy and other runs are about. */
  private async pace(runId: string, maxMs: number): Promise<void> {
    const until = performance.now() + maxMs;
    while (performance.now() < until && this.utilization() > PACE_UTILIZATION && this.othersRecent(runId)) {
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  /** Settles once the batches of other runs ready or in a transaction now have settled. */
  private othersSettled(runId: string): Promise<unknown> | undefined {
    const waits: Promise<void>[] = [];
    for (const [other, batches] of this.busy) if (other !== runId) for (const b of batches) waits.push(b.settled);
    return waits.length === 0 ? undefined : Promise.all(waits);
  }

  /** Resolves once the batch's transaction settled (its calls are settled then, commitGroup never throws). */
  private submit(batch: RunBatch): Promise<void> {
    let done!: () => void;
    const settled = new Promise<void>((resolve) => (done = resolve));
    const item: Submitted = { batch, done, settled };
    let batches = this.busy.get(batch.runId);
    if (batches === undefined) this.busy.set(batch.runId, (batches = new Set()));
    batches.add(item);
    settled.then(() => {
      batches.delete(item);
      if (batches.size === 0 && this.busy.get(batch.runId) === batches) this.busy.delete(batch.runId);
    }, () => undefined);
    this.ready.push(item);
    if (this.inFlight >= GROUPS_IN_FLIGHT) this.stats.waited += 1;
    this.pump();
    return settled;
  }

  private pump(): void {
    while (this.inFlight < GROUPS_IN_FLIGHT && this.ready.length > 0) {
      const group = this.ready.splice(0, MAX_RUNS_PER_GROUP);
      this.inFlight += 1;
      this.stats.writes += 1;
      this.stats.batches += group.length;
      for (const item of group) this.stats.calls += item.batch.calls.length;
      void this.writer
        .commitGroup(group.map((item) => item.batch))
        .catch(() => undefined)
        .finally(() => {
          this.inFlight -= 1;
          for (const item of group) item.done();
          this.pump();
        });
    }
  }
}
