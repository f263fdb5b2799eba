import type { Bus } from '@weft/bus';
import { detached } from '@weft/telemetry';
import { eventSubject, isLifecycleBatchSubject, TERMINAL_RUN_STATUSES } from '@weft/contracts';
import type { OutboxRecord, RunStore } from '../ports/run-store.port';
import type { SchedulerLogger } from '../ports/scheduler-logger.port';
import { isPermanentPublishError } from './outbox-quarantine';
import { type BeforePublish, type PoisonRows, sendOutboxRows } from './outbox-sender';
import { eventTypesOf } from './event-batches';

/** Failed rows kept for an in-process re-send (see CommittedRowsPublisher.unsent). */
const UNSENT_LIMIT = 10_000;

export interface CommittedRowsPublisherOptions {
  /** See SchedulerOptions.markDelayMs. @default 0 */
  markDelayMs?: number;
  /** See SchedulerOptions.markBatch. @default 256 */
  markBatch?: number;
  beforePublish?: BeforePublish;
  /** Rows the broker refused for good (OutboxQuarantine.quarantine): never kept for a re-send. */
  onPoison?: PoisonRows;
}

/** Subjects of a run's terminal lifecycle event. */
const TERMINAL_RUN_SUBJECTS: ReadonlySet<string> = new Set(TERMINAL_RUN_STATUSES.map((status) => `weft.event.run.${status}`));

/** Rows published a turn later (CommittedRowsPublisher.defer): a set this large, or holding a batch row. */
const HEAVY_ROWS = 256;

const heavy = (rows: readonly OutboxRecord[]): boolean => rows.length > HEAVY_ROWS || rows.some((row) => isLifecycleBatchSubject(row.subject));

/** A row carrying its run's terminal event: alone, or in a batch row (a big run's cancel). */
function endsRun(row: OutboxRecord): boolean {
  if (!isLifecycleBatchSubject(row.subject)) return TERMINAL_RUN_SUBJECTS.has(row.subject);
  return eventTypesOf(row.payload).some((type) => TERMINAL_RUN_SUBJECTS.has(eventSubject(type)));
}

/**
 * Publish-after-commit: the store hands this class the rows a transition committed
 * (inserted claimed by this process, so no relay takes them meanwhile; see
 * ClaimOutboxOption), through `publish`, right after the commit and in commit order. It
 * publishes them, each under its run's trace, and marks the published ones in a debounced
 * batch. A row whose publish fails stays claimed and unmarked and is sent again on every
 * timer scan (`resendUnsent`: a NATS blip costs a poll interval, not a claim); if this
 * process dies, OutboxRelay publishes it once the claim lapses.
 */
export class CommittedRowsPublisher {
  private readonly markDelayMs: number;
  private readonly markBatch: number;
  private readonly beforePublish: BeforePublish | undefined;
  private readonly onPoison: PoisonRows | undefined;
  private running = true;
  /** Publishes in flight (drain() waits for them). */
  private readonly publishing = new Set<Promise<void>>();
  /**
   * Rows whose publish after commit failed (NATS away): sent again by this process on
   * every scan while it still holds their claim, instead of waiting for the claim to lapse
   * for the relay. Bounded by UNSENT_LIMIT: beyond it the relay's lapse covers them.
   */
  private unsent: OutboxRecord[] = [];
  /** Ids published right after their commit, waiting for the debounced mark. */
  private unmarked: string[] = [];
  /** Cancels the scheduled mark (a timer, or an immediate with no delay). */
  private markTimer: (() => void) | undefined;
  private marking: Promise<void> | undefined;
  /** Row sets waiting for the next turn (defer), in commit order. */
  private deferred: (readonly OutboxRecord[])[] = [];
  private deferredTurn: Promise<void> | undefined;

  constructor(
    private readonly bus: Bus,
    private readonly store: Pick<RunStore, 'markPublished'>,
    private readonly log: SchedulerLogger,
    options: CommittedRowsPublisherOptions = {},
  ) {
    this.markDelayMs = options.markDelayMs ?? 0;
    this.markBatch = options.markBatch ?? 256;
    this.beforePublish = options.beforePublish;
    this.onPoison = options.onPoison;
  }

  /**
   * The rows one commit wrote, passed as `claimOutbox` to the store (synchronous, never
   * throws). Called in commit order, so a run's rows go out in the order the relay would send them.
   */
  readonly publish = (rows: readonly OutboxRecord[]): void => {
    this.beforePublish?.(rows);
    if (this.deferred.length > 0 || heavy(rows)) this.defer(rows);
    else this.publishRows(rows);
  };

  /**
   * A heavy set of rows (a big run's cancel: ~200 batch rows, ~15 MB of events to encode) is
   * published on the next turn of the event loop, not inside the commit's callback: the store
   * settles the update (the cancel returns) first. Sets committed meanwhile queue behind it, so
   * rows still go out in commit order.
   */
  private defer(rows: readonly OutboxRecord[]): void {
    this.deferred.push(rows);
    this.deferredTurn ??= new Promise<void>((resolve) =>
      setImmediate(() => {
        this.deferredTurn = undefined;
        for (const set of this.deferred.splice(0)) this.publishRows(set);
        resolve();
      }),
    );
  }

  /** Sends again the rows whose publish failed (no fault-test seam: they were seen once). Called on every timer scan. */
  resendUnsent(): void {
    if (this.unsent.length > 0) this.publishRows(this.unsent.splice(0));
  }

  /** From now on waiting marks go at once (stopping). */
  close(): void {
    this.running = false;
  }

  /** Waits for publishes in flight, then marks what waits (a failed mark drops its ids: the relay covers them). */
  async drain(): Promise<void> {
    await this.deferredTurn;
    await Promise.all([...this.publishing]);
    while (this.marking !== undefined || this.unmarked.length > 0) {
      this.flushMarks();
      await this.marking;
    }
  }

  private publishRows(rows: readonly OutboxRecord[]): void {
    // Detached: each row is published under its run's trace, not under the commit's caller.
    const done = detached(() => sendOutboxRows(this.bus, rows)).then(async (outcomes) => {
      // Every row sent (the usual case): no poison, nothing failed, no filtering.
      const allSent = outcomes.every((outcome) => outcome.status === 'fulfilled');
      const poison = allSent
        ? []
        : rows.flatMap((row, i) => {
            const outcome = outcomes[i];
            return outcome.status === 'rejected' && isPermanentPublishError(outcome.reason) ? [{ row, error: outcome.reason as unknown }] : [];
          });
      const failed = allSent ? [] : rows.filter((_, i) => outcomes[i].status === 'rejected' && !poison.some((p) => p.row === rows[i]));
      if (failed.length > 0) {
        const kept = Math.max(0, Math.min(failed.length, UNSENT_LIMIT - this.unsent.length));
        this.unsent.push(...failed.slice(0, kept));
        this.log.warn('publish after commit failed; sending again on the next scan (the relay takes over if the claim lapses)', {
          rows: failed.length,
          error: String((outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult).reason),
        });
      }
      const sent = allSent ? rows : rows.filter((_, i) => outcomes[i].status === 'fulfilled');
      // A run's terminal event: nothing more of the run comes to carry the marks (the store's markLingerMs), so they go at once.
      if (sent.some(endsRun)) await this.markNow(sent.map((row) => row.id));
      else this.markLater(sent.map((row) => row.id));
      // A failed quarantine leaves the rows claimed: the relay meets them again once the claim lapses.
      if (poison.length > 0) await this.onPoison?.(poison).catch((error: unknown) => this.log.error('could not quarantine poison outbox rows', { rows: poison.length, error: String(error) }));
    });
    this.publishing.add(done);
    void done.finally(() => this.publishing.delete(done));
  }

  /** Marks outside the single-flight batching (urgent: the store writes them, and any it holds back, at once). */
  private async markNow(ids: readonly string[]): Promise<void> {
    await detached(() => this.store.markPublished(ids, { urgent: true })).catch((error: unknown) =>
      this.log.warn('marking published rows failed; the relay publishes them again once their claim lapses', { rows: ids.length, error: String(error) }),
    );
  }

  private markLater(ids: readonly string[]): void {
    if (ids.length === 0) return;
    this.unmarked.push(...ids);
    if (this.unmarked.length >= this.markBatch) this.flushMarks();
    else this.scheduleMarks();
  }

  /**
   * The next mark, never two in flight: after markDelayMs, or with no delay once the
   * current I/O is handled (PubAcks read together are marked together); at once when stopping.
   */
  private scheduleMarks(): void {
    if (this.marking !== undefined || this.markTimer !== undefined || this.unmarked.length === 0) return;
    if (!this.running) {
      this.flushMarks();
    } else if (this.markDelayMs <= 0) {
      const immediate = setImmediate(() => this.flushMarks());
      this.markTimer = () => clearImmediate(immediate);
    } else {
      const timer = setTimeout(() => this.flushMarks(), this.markDelayMs);
      this.markTimer = () => clearTimeout(timer);
    }
  }

  /** One markPublished for every id waiting; single-flight (ids arriving meanwhile go in the next). */
  private flushMarks(): void {
    this.markTimer?.();
    this.markTimer = undefined;
    if (this.marking !== undefined || this.unmarked.length === 0) return;
    const ids = this.unmarked;
    this.unmarked = [];
    this.marking = detached(() => this.store.markPublished(ids))
      .catch((error: unknown) => this.log.warn('marking published rows failed; the relay publishes them again once their claim lapses', { rows: ids.length, error: String(error) }))
      .finally(() => {
        this.marking = undefined;
        if (this.unmarked.length >= this.markBatch) this.flushMarks();
        else this.scheduleMarks();
      });
  }
}
