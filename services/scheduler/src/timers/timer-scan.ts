import type { RunState } from '@weft/core';
import type { CommittedRowsPublisher } from '../outbox/committed-rows.publisher';
import type { OutboxRelay } from '../outbox/outbox.relay';
import type { LeaseRef, RunStore } from '../ports/run-store.port';
import type { SchedulerLogger } from '../ports/scheduler-logger.port';
import type { ApplyEventUseCase } from '../usecases/apply-event.usecase';
import type { ScanSchedule } from './scan-schedule';

/**
 * The timer and lease scan: fires due timers and reaps expired leases as engine events
 * (`timer.fired`) through ApplyEventUseCase. Each scan also re-sends rows whose publish
 * after commit failed and kicks the relay when its read saw rows up for it. Safe to run on every replica: a stale timer or
 * lease is a no-op in the core.
 */
export class TimerScan {
  private ticking: Promise<void> | undefined;
  /** performance.now() of the last relay kick (RELAY_EVERY_POLLS poll intervals apart). */
  private relayKickedAt = Number.NEGATIVE_INFINITY;
  /** performance.now() of the last delivery pass. */
  private deliveredAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly store: Pick<RunStore, 'now' | 'dueTimers' | 'expiredLeases' | 'nextTimerAt' | 'scanDue'>,
    private readonly transitions: Pick<ApplyEventUseCase, 'apply'>,
    private readonly schedule: ScanSchedule,
    private readonly outbox: { publisher: Pick<CommittedRowsPublisher, 'resendUnsent'>; relay: Pick<OutboxRelay, 'kick'> },
    /** Upper bound between scans (ms). */
    private readonly pollIntervalMs: number,
    private readonly log: SchedulerLogger,
    /** Meetings of signal waits and signals to hand to the core (SignalDeliveryUseCase), on every scan. */
    private readonly deliveries?: { deliverPending(): Promise<void> },
  ) {}

  /** Wake-ups are honoured from now on (transitions during start-up recovery may bring the first scan forward). */
  open(): void {
    this.schedule.open(() => this.scan());
  }

  /** The first scan, at once. */
  begin(): void {
    this.schedule.next(0);
  }

  async stop(): Promise<void> {
    this.schedule.close();
    await this.ticking;
  }

  /** Fires due timers and reaps expired leases. */
  async tick(): Promise<void> {
    await this.pass();
  }

  /**
   * One pass (`relay`: kicks the relay when the read saw rows up for it); resolves with the earliest timer the pass read when it fired and reaped
   * nothing (so that read still holds), undefined when it has to be read again.
   */
  private async pass(relay = false): Promise<{ now: number; nextTimerAt: number | undefined } | undefined> {
    // One round trip when the store offers it (SQL: one read-only statement, not four).
    const read = this.store.scanDue ? await this.store.scanDue(SCAN_LIMIT) : undefined;
    if (relay) this.kickRelay(read?.outboxPending !== false);
    const now = read?.now ?? (await this.store.now());
    const timers = read?.timers ?? (await this.store.dueTimers(now, SCAN_LIMIT));
    // Timers of different runs fire side by side (the store serialises each run): 1,000 sleeps due
    // together wake in a few transactions' time, not one after another.
    await inParallel(timers, TIMERS_IN_PARALLEL, (timer) =>
      this.transitions.apply(
        timer.runId,
        (at) => ({ type: 'timer.fired', at, timer: timer.timer, ...(timer.stepId && { stepId: timer.stepId }), attempt: timer.attempt }),
        timer,
      ),
    );
    const leases = read?.leases ?? (await this.store.expiredLeases(now, SCAN_LIMIT));
    for (const lease of leases) await this.reap(lease);
    // Deliveries a signal creates here are kicked at once; the scan finds the others' (another replica's API).
    // When the scan saw none it skips that read, but still passes now and then (the pass also purges old signals).
    const at = performance.now();
    if (read?.deliveriesPending !== false || at - this.deliveredAt >= DELIVERIES_EVERY_MS) {
      this.deliveredAt = at;
      await this.deliveries?.deliverPending();
    }
    // Transitions of this pass may have armed or removed timers; others' wake-ups meanwhile are kept by ScanSchedule.
    return read && timers.length === 0 && leases.length === 0 ? read : undefined;
  }

  /**
   * Rows a dead relay claimed, or a failed pass (broker or database down) left behind, go out on a
   * later scan. Every row is inserted claimed by the process that publishes it, so the relay only
   * sees lapsed claims (outboxClaimMs, 15 s): every RELAY_EVERY_POLLS poll intervals (1 s by default)
   * is soon enough, and saves a commit on the other scans. `pending` false: the scan's read saw no
   * row the relay would take (its claim is a commit even when it takes none), so it is not kicked.
   */
  private kickRelay(pending: boolean): void {
    const at = performance.now();
    if (!pending || at - this.relayKickedAt < RELAY_EVERY_POLLS * this.pollIntervalMs) return;
    this.relayKickedAt = at;
    this.outbox.relay.kick();
  }

  private scan(): void {
    this.outbox.publisher.resendUnsent();
    this.ticking = this.pass(true)
      .catch((error: unknown) => {
        this.log.error('timer scan failed; will retry', { error: String(error) });
        // The pass failed (maybe before its read): the relay goes by the clock alone.
        this.kickRelay(true);
        return undefined;
      })
      .then(async (read) => {
        const { now, nextTimerAt: next } = read ?? { now: await this.store.now(), nextTimerAt: await this.store.nextTimerAt() };
        this.schedule.after(next === undefined ? this.pollIntervalMs : Math.min(this.pollIntervalMs, Math.max(0, next - now)));
      })
      .catch(() => this.schedule.after(this.pollIntervalMs));
  }

  private reap(lease: LeaseRef): Promise<RunState | undefined> {
    return this.transitions.apply(lease.runId, (at) => ({ type: 'timer.fired', at, timer: 'lease', stepId: lease.stepId, attempt: lease.attempt }));
  }
}

/** Due timers, and expired leases, read per scan at most. */
const SCAN_LIMIT = 256;

/** The relay (lapsed outbox claims) runs on at most one scan per this many poll intervals. */
const RELAY_EVERY_POLLS = 4;

/** A delivery pass at least this often (ms) even when the scans see no delivery waiting: the pass also purges old signals. */
const DELIVERIES_EVERY_MS = 10_000;

/** Due timers applied at once per scan, at most. */
const TIMERS_IN_PARALLEL = 32;

/** Runs `work` over `items`, `limit` at a time; rejects with the first error once all started ones settled. */
async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  });
  const results = await Promise.allSettled(lanes);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
