import type { Bus } from '@weft/bus';
import { detached } from '@weft/telemetry';
import type { RunStore } from '../ports/run-store.port';
import type { SchedulerLogger } from '../ports/scheduler-logger.port';
import { isPermanentPublishError } from './outbox-quarantine';
import { type BeforePublish, type PoisonRows, sendOutboxRows } from './outbox-sender';

/**
 * The fallback publisher: committed outbox rows nobody holds a claim on — a previous
 * process's, and those whose publish right after commit failed or whose mark was lost,
 * once their claim lapsed. Kicked at start and on every timer scan. Single-flight; a kick
 * during a pass triggers another pass.
 */
export class OutboxRelay {
  private running = true;
  private relaying: Promise<void> | undefined;
  private relayAgain = false;

  constructor(
    private readonly bus: Bus,
    private readonly store: Pick<RunStore, 'pendingOutbox' | 'markPublished'>,
    private readonly log: SchedulerLogger,
    /** Messages per batch. */
    private readonly batchSize: number,
    private readonly beforePublish: BeforePublish | undefined,
    /** Rows the broker refused for good: quarantined, so they never block a pass again. */
    private readonly onPoison: PoisonRows | undefined = undefined,
  ) {}

  kick(): void {
    if (this.relaying) {
      this.relayAgain = true;
      return;
    }
    // Detached: the relay publishes each row under its run's trace, not under whichever request kicked it.
    this.relaying = detached(() => this.relay())
      .catch((error: unknown) => this.log.error('outbox relay failed; will retry', { error: String(error) }))
      .finally(() => {
        this.relaying = undefined;
        if (this.relayAgain && this.running) {
          this.relayAgain = false;
          this.kick();
        }
      });
  }

  /** No further passes once this one ends. */
  close(): void {
    this.running = false;
  }

  /** The pass in flight, if any. */
  async drain(): Promise<void> {
    await this.relaying;
  }

  private async relay(): Promise<void> {
    for (;;) {
      this.relayAgain = false;
      const batch = await this.store.pendingOutbox(this.batchSize);
      if (batch.length === 0) return;
      this.beforePublish?.(batch);
      const outcomes = await sendOutboxRows(this.bus, batch);
      await this.store.markPublished(batch.filter((_, i) => outcomes[i].status === 'fulfilled').map((r) => r.id));
      const poison: { row: (typeof batch)[number]; error: unknown }[] = [];
      let transient: unknown;
      outcomes.forEach((outcome, i) => {
        if (outcome.status === 'fulfilled') return;
        if (isPermanentPublishError(outcome.reason)) poison.push({ row: batch[i], error: outcome.reason });
        else transient ??= outcome.reason;
      });
      if (poison.length > 0) await this.onPoison?.(poison);
      // The broker is away: the unsent rows stay claimed and come back once the claim lapses.
      if (transient !== undefined) throw transient;
      if (batch.length < this.batchSize && !this.relayAgain) return;
    }
  }
}
