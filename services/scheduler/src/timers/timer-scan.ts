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
 * after commit failed and kicks the relay. Safe to run on every replica: a stale timer or
 * lease is a no-op in the core.
 */
export class TimerScan {
  private ticking: Promise<void> | undefined;

  constructor(
    private readonly store: Pick<RunStore, 'now' | 'dueTimers' | 'expiredLeases' | 'nextTimerAt'>,
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
    const now = await this.store.now();
    // Timers of different runs fire side by side (the store serialises each run): 1,000 sleeps due
    // together wake in a few transactions' time, not one after another.
    await inParallel(await this.store.dueTimers(now, 256), TIMERS_IN_PARALLEL, (timer) =>
      this.transitions.apply(
        timer.runId,
        (at) => ({ type: 'timer.fired', at, timer: timer.timer, ...(timer.stepId && { stepId: timer.stepId }), attempt: timer.attempt }),
        timer,
      ),
    );
    for (const lease of await this.store.expiredLeases(now, 256)) await this.reap(lease);
    await this.deliveries?.deliverPending();
  }

  private scan(): void {
    this.outbox.publisher.resendUnsent();
    // Rows a dead relay claimed, or a failed pass (broker or database down) left behind, go out on a later scan.
    this.outbox.relay.kick();
    this.ticking = this.tick()
      .catch((error: unknown) => this.log.error('timer scan failed; will retry', { error: String(error) }))
      .then(async () => {
        const now = await this.store.now();
        const next = await this.store.nextTimerAt();
        this.schedule.next(next === undefined ? this.pollIntervalMs : Math.min(this.pollIntervalMs, Math.max(0, next - now)));
      })
      .catch(() => this.schedule.next(this.pollIntervalMs));
  }

  private reap(lease: LeaseRef): Promise<RunState | undefined> {
    return this.transitions.apply(lease.runId, (at) => ({ type: 'timer.fired', at, timer: 'lease', stepId: lease.stepId, attempt: lease.attempt }));
  }
}

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
