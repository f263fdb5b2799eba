import { RUN_SLOT_STEP, stepIn, TERMINAL_RUN_STATUSES } from '@weft/core';
import type { SlotReleased, SlotRequested } from '@weft/contracts';
import type { RunStore } from '../ports/run-store.port';
import type { SchedulerLogger } from '../ports/scheduler-logger.port';
import type { SlotStore } from '../ports/slot-store.port';
import type { ApplyEventUseCase } from './apply-event.usecase';

/** How long a granted slot stays held without renewal. The reconciler renews live holders at half of it. @default 30 s */
export const DEFAULT_SLOT_LEASE_MS = 30_000;
/** Leases one reconcile pass looks at. */
const RECONCILE_BATCH = 500;
/**
 * How long a released slot row stays as a tombstone (a late duplicate request for its token then
 * grants nothing; one after it would be granted to a step that no longer waits, and reclaimed by
 * the next pass). @default 1 h
 */
export const SLOT_TOMBSTONE_MS = 3_600_000;
/** Time between purges of tombstones and passed rate-limit TATs (purging is not needed every pass). */
const PURGE_EVERY_MS = 60_000;

/**
 * Concurrency slots across runs (docs/flow-control.md): requests and releases arrive from runs'
 * outboxes; grants go to runs as slot.granted. `reconcile` (every scan) renews the leases of
 * holders that still hold their slot, hands a grant again to a holder that never got it, and
 * gives back leases whose holder is gone or ended (so no slot leaks, whatever crashed), then
 * grants what queued.
 */
export class SlotsUseCase {
  constructor(
    private readonly slots: SlotStore,
    private readonly runs: Pick<RunStore, 'getRun'>,
    private readonly transitions: Pick<ApplyEventUseCase, 'apply'>,
    private readonly log: SchedulerLogger,
    private readonly leaseMs = DEFAULT_SLOT_LEASE_MS,
    private readonly clock: () => number = Date.now,
  ) {}

  /** When the last purge ran (the process clock: only a cadence). */
  private purgedAt: number | undefined;

  async requested(r: SlotRequested): Promise<void> {
    await this.slots.request(r);
    await this.grant(r.namespace, r.scope);
  }

  async released(r: SlotReleased): Promise<void> {
    await this.slots.release(r.token, r);
    await this.grant(r.namespace, r.scope);
  }

  async grant(namespace: string, scope: string): Promise<void> {
    const grants = await this.slots.grant(namespace, scope, this.leaseMs);
    // A strategy refused or evicted these: their runs are canceled first (the abort of an evicted
    // run's attempts goes out before the new holder's dispatch); their release finds the row released.
    for (const g of grants) {
      const reason = g.canceled;
      if (reason === undefined) continue;
      // A workflow's limit cancels the run; a step's fails the step (CONCURRENCY_CANCELED).
      if (g.stepId === RUN_SLOT_STEP) await this.transitions.apply(g.runId, (at) => ({ type: 'run.cancel', at, reason }));
      else await this.transitions.apply(g.runId, (at) => ({ type: 'slot.revoked', at, stepId: g.stepId, token: g.token, reason }));
    }
    for (const g of grants) if (g.canceled === undefined) await this.deliver(g.runId, g.stepId, g.token);
  }

  /** One reconcile pass: renew, redeliver, reclaim, then grant every scope with queued work. */
  async reconcile(): Promise<void> {
    const expiring = await this.slots.expiring(this.leaseMs / 2, RECONCILE_BATCH);
    const renew: string[] = [];
    const freed = new Map<string, { namespace: string; scope: string }>();
    for (const lease of expiring) {
      const run = await this.runs.getRun(lease.runId);
      if (lease.stepId === RUN_SLOT_STEP) {
        // A workflow's own limit: the run holds the slot until it ends.
        if (run?.slot?.token === lease.token && !TERMINAL_RUN_STATUSES.includes(run.status)) renew.push(lease.token);
        else if (run?.status === 'queued' && run.admission?.token === lease.token) {
          renew.push(lease.token);
          await this.deliver(lease.runId, lease.stepId, lease.token);
        } else {
          this.log.warn('slot reclaimed: its run no longer holds it', { token: lease.token, runId: lease.runId });
          await this.slots.release(lease.token, { ...lease, key: '' });
          freed.set(`${lease.namespace}\n${lease.scope}`, { namespace: lease.namespace, scope: lease.scope });
        }
        continue;
      }
      const step = run === undefined ? undefined : stepIn(run.steps, lease.stepId);
      if (step?.slot?.token === lease.token && !['completed', 'failed', 'canceled', 'skipped', 'partially_completed'].includes(step.status)) {
        renew.push(lease.token);
      } else if (step?.status === 'waiting' && step.wait?.kind === 'slot' && step.token === lease.token) {
        // Granted, but the grant never reached the run (a crash between the two): hand it again.
        renew.push(lease.token);
        await this.deliver(lease.runId, lease.stepId, lease.token);
      } else {
        this.log.warn('slot reclaimed: its holder no longer holds it', { token: lease.token, runId: lease.runId, stepId: lease.stepId });
        await this.slots.release(lease.token, { ...lease, key: '' });
        freed.set(`${lease.namespace}\n${lease.scope}`, { namespace: lease.namespace, scope: lease.scope });
      }
    }
    await this.slots.renew(renew, this.leaseMs);
    for (const s of await this.slots.queuedScopes()) freed.set(`${s.namespace}\n${s.scope}`, s);
    for (const s of freed.values()) await this.grant(s.namespace, s.scope);
    if (this.purgedAt === undefined || this.clock() - this.purgedAt >= PURGE_EVERY_MS) await this.purge();
  }

  /** Deletes slot tombstones older than SLOT_TOMBSTONE_MS and rate-limit keys whose TAT passed. */
  async purge(): Promise<{ slots: number; rates: number }> {
    this.purgedAt = this.clock();
    const slots = await this.slots.purge(SLOT_TOMBSTONE_MS);
    const rates = await this.slots.rates.purge();
    if (slots + rates > 0) this.log.info('flow-control rows purged', { slots, rates });
    return { slots, rates };
  }

  private async deliver(runId: string, stepId: string, token: string): Promise<void> {
    await this.transitions.apply(runId, (at) => ({ type: 'slot.granted', at, stepId, token }));
  }
}
