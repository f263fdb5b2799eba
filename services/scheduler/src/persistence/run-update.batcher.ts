import type { RunState } from '@weft/core';
import type { ClaimOutboxOption, RunDecider } from '../ports/run-store.port';
import type { RunBatchWriter } from './run-batch.writer';

/** One updateRun call waiting for its run's next batch. */
export interface PendingUpdate {
  /** RunEventDecision.decide (usecases/apply-event.usecase.ts) in the scheduler. */
  decide: RunDecider;
  relaxed: boolean;
  claimOutbox: ClaimOutboxOption['claimOutbox'];
  resolve: (state: RunState | undefined) => void;
  reject: (error: unknown) => void;
}

/** Bounds one transaction's size; the rest of the queue goes in the next one. */
const MAX_UPDATES_PER_TRANSACTION = 128;

/**
 * Per-run batching of updateRun calls in this process: calls for one run are queued and
 * handed to RunBatchWriter.commit in batches, one transaction (lock, decide each in turn,
 * one merged write, commit) for everything that arrived while the previous batch was in
 * the database. Replicas still serialise on the row lock.
 */
export class RunUpdateBatcher {
  private readonly queues = new Map<string, PendingUpdate[]>();

  constructor(
    private readonly writer: Pick<RunBatchWriter, 'commit'>,
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
      await this.writer.commit(runId, queue.splice(0, MAX_UPDATES_PER_TRANSACTION));
    }
  }
}
