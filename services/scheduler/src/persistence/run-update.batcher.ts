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

/** Bounds one run's share of a transaction; the rest of its queue goes in the next one. */
const MAX_UPDATES_PER_TRANSACTION = 128;

/** Transactions of this process's runs in the database at once; batches ready meanwhile wait and go together. */
const GROUPS_IN_FLIGHT = 6;

/** Runs in one transaction at most (group commit). */
const MAX_RUNS_PER_GROUP = 8;

/**
 * Per-run batching of updateRun calls in this process: calls for one run are queued and
 * handed to RunBatchWriter.commit in batches, one transaction (lock, decide each in turn,
 * one merged write, commit) for everything that arrived while the previous batch was in
 * the database. Replicas still serialise on the row lock.
 *
 * Across runs, group commit: at most GROUPS_IN_FLIGHT transactions at a time; the batches of
 * other runs that become ready meanwhile go into the next transaction together (up to
 * MAX_RUNS_PER_GROUP), one COMMIT and one WAL flush for all of them. A lone run (a chain)
 * still goes at once, alone.
 */
export class RunUpdateBatcher {
  private readonly queues = new Map<string, PendingUpdate[]>();
  /** Batches waiting for a transaction, each with what to call once it settled. */
  private readonly ready: { batch: RunBatch; done: () => void }[] = [];
  private inFlight = 0;

  constructor(
    private readonly writer: Pick<RunBatchWriter, 'commitGroup'>,
    /** How long a lone relaxed update (a heartbeat) waits for more of its run (ms); 0 turns it off. */
    private readonly relaxedLingerMs: number,
  ) {}

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
      await this.submit({ runId, calls: queue.splice(0, MAX_UPDATES_PER_TRANSACTION) });
    }
  }

  /** Resolves once the batch's transaction settled (its calls are settled then, commitGroup never throws). */
  private submit(batch: RunBatch): Promise<void> {
    return new Promise<void>((done) => {
      this.ready.push({ batch, done });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < GROUPS_IN_FLIGHT && this.ready.length > 0) {
      const group = this.ready.splice(0, MAX_RUNS_PER_GROUP);
      this.inFlight += 1;
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
