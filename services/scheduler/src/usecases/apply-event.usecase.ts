import type { EngineEvent, RunState } from '@weft/core';
import type { ClaimOutboxOption, RunDecider, RunStore, TimerRecord, UpdateRunOptions } from '../ports/run-store.port';
import type { TimerWakeups } from '../ports/timer-wakeups.port';
import { TransitionTelemetry } from './run-telemetry.util';
import { type BoundedDecideOptions, decideBounded } from './bounded-decide.util';
import { toTransition } from './transition.util';
import { type BlobValues, withBlobRounds } from './blob-values';

/**
 * Applies one event to a run: the single path every change of an existing run takes
 * (step results, heartbeats, timers, leases, cancel, retry, resume). The store serialises
 * the run and calls the event's RunEventDecision under its lock; the rows the commit wrote
 * go to `publishCommitted` (CommittedRowsPublisher.publish) before this resolves.
 */
export class ApplyEventUseCase {
  constructor(
    private readonly store: Pick<RunStore, 'updateRun'>,
    private readonly publishCommitted: NonNullable<ClaimOutboxOption['claimOutbox']>,
    private readonly wakeups: TimerWakeups,
    private readonly decideOptions: BoundedDecideOptions,
    /** Payloads stored by reference, loaded when a decision's expressions need them (DecideOptions.resolveBlob), written when it makes one. */
    private readonly blobs?: BlobValues,
  ) {}

  async apply(runId: string, event: (at: number) => EngineEvent, fired?: TimerRecord, options?: UpdateRunOptions): Promise<RunState | undefined> {
    // Each round loads (or writes) one blob the decision needed.
    return withBlobRounds(this.blobs, () => this.applyOnce(runId, event, fired, options));
  }

  private async applyOnce(runId: string, event: (at: number) => EngineEvent, fired?: TimerRecord, options?: UpdateRunOptions): Promise<RunState | undefined> {
    const decision = new RunEventDecision(event, fired, this.decideOptions);
    const state = await this.store
      .updateRun(runId, decision.decide, { ...options, claimOutbox: this.publishCommitted })
      .catch((error: unknown) => decision.telemetry.failed(error));
    decision.telemetry.committed();
    const wake = decision.wakeInMs();
    if (wake !== undefined) this.wakeups.wakeAt(wake);
    return state;
  }

  cancel(runId: string, reason = 'canceled by user'): Promise<RunState | undefined> {
    return this.apply(runId, (at) => ({ type: 'run.cancel', at, reason }));
  }

  /** Re-runs a finished run's failed, canceled and skipped steps. */
  retry(runId: string): Promise<RunState | undefined> {
    return this.apply(runId, (at) => ({ type: 'run.retry', at }));
  }
}

/**
 * One event decided by the core. `decide` is what RunStore.updateRun calls under the
 * run's lock (in the SQL store: RunBatchWriter, for the batch RunUpdateBatcher queued it
 * in), possibly after other events of the same run in the same transaction.
 */
export class RunEventDecision {
  readonly telemetry = new TransitionTelemetry();
  /** Earliest timer the decision scheduled (database time). */
  private earliest: number | undefined;
  // Database time of the decision, and when (local monotonic clock) it was read: the wake-up
  // delay is fireAt minus that, minus the time since, with no clock comparison and no query.
  private decidedAt = 0;
  private decidedLocal = 0;

  constructor(
    private readonly event: (at: number) => EngineEvent,
    /** The timer row this event fires (removed in the same transaction). */
    private readonly fired: TimerRecord | undefined,
    private readonly options: BoundedDecideOptions,
  ) {}

  readonly decide: RunDecider = (current, now) => {
    this.decidedAt = now;
    this.decidedLocal = performance.now();
    const happened = this.event(now);
    const transition = toTransition(current, decideBounded(current, happened, this.options), this.fired ? [this.fired] : []);
    this.telemetry.observe(current, happened, transition?.state);
    for (const t of transition?.schedule ?? []) this.earliest = Math.min(this.earliest ?? t.fireAt, t.fireAt);
    return transition;
  };

  /** How long from now until the earliest timer it scheduled is due; undefined when it scheduled none. */
  wakeInMs(): number | undefined {
    return this.earliest === undefined ? undefined : this.earliest - this.decidedAt - (performance.now() - this.decidedLocal);
  }
}
