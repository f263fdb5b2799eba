import { randomUUID } from 'node:crypto';
import type { SqlTriggerStore } from '../persistence/sql-trigger.store';
import type { Clock } from '../ports/clock.port';
import type { TriggersLogger } from '../ports/triggers-logger.port';

export const LEADER_LEASE = 'triggers-leader';

export interface LeaderOptions {
  /** The lease lasts this long unless renewed (database time). @default 3000 */
  ttlMs?: number;
  /** How often the leader plans schedules and polls; followers try to take the lease as often. @default 250 */
  tickEveryMs?: number;
  /** How often the leader materialises definitions from published versions. @default 2000 */
  syncEveryMs?: number;
  /** This process's name in the lease. @default a new id */
  holder?: string;
}

export interface LeaderWork {
  sync(nowMs: number): Promise<unknown>;
  schedule(leadingSinceMs: number): Promise<unknown>;
  poll(): Promise<unknown>;
}

/**
 * One replica leads schedules, polls and the definition sync: the holder of a lease row
 * renewed on every tick. A leader that cannot renew in time stops leading; exactly-once per
 * tick does not depend on it (the fire log's unique occurrence does), the lease only keeps
 * the work in one place.
 */
export class LeaderLoop {
  readonly holder: string;
  private leadingSince: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private lastSync = -Infinity;
  private lastError: string | undefined;

  constructor(
    private readonly store: SqlTriggerStore,
    private readonly work: LeaderWork,
    private readonly clock: Clock,
    private readonly log: TriggersLogger,
    private readonly options: LeaderOptions = {},
  ) {
    this.holder = options.holder ?? `triggers-${randomUUID()}`;
  }

  get isLeader(): boolean {
    return this.leadingSince !== undefined;
  }

  start(): void {
    const loop = (): void => {
      this.running = this.tick().finally(() => {
        if (!this.stopped) this.timer = setTimeout(loop, this.options.tickEveryMs ?? 250);
      });
    };
    loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    if (this.isLeader) await this.store.leases.releaseLease(LEADER_LEASE, this.holder).catch(() => undefined);
    this.leadingSince = undefined;
  }

  /** Stops without releasing the lease, as a crash would (tests of a leader's death). */
  async abandon(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    this.leadingSince = undefined;
  }

  async health(): Promise<{ ok: boolean; detail: string }> {
    if (this.isLeader) return { ok: true, detail: `leader since ${new Date(this.leadingSince ?? 0).toISOString()}${this.lastError ? `; last error: ${this.lastError}` : ''}` };
    const lease = await this.store.leases.leaseHolder(LEADER_LEASE);
    return { ok: true, detail: lease ? `follower (leader: ${lease.holder})` : 'follower (no leader yet)' };
  }

  /** One tick: renew or take the lease, then the leader's work. Exposed for tests. */
  async tick(): Promise<void> {
    try {
      const held = await this.store.leases.tryLease(LEADER_LEASE, this.holder, this.options.ttlMs ?? 3_000);
      if (held && this.leadingSince === undefined) {
        this.leadingSince = this.clock.now();
        this.log.info('leading schedules and polls', { holder: this.holder });
      } else if (!held && this.leadingSince !== undefined) {
        this.leadingSince = undefined;
        this.log.warn('lost the triggers lease', { holder: this.holder });
      }
    } catch (error) {
      this.lastError = String(error);
      this.leadingSince = undefined;
      return;
    }
    const since = this.leadingSince;
    if (since === undefined || this.stopped) return;
    try {
      // The sync interval is housekeeping, on the monotonic clock; the tick times are the injected clock's.
      const mono = performance.now();
      if (mono - this.lastSync >= (this.options.syncEveryMs ?? 2_000)) {
        await this.work.sync(this.clock.now());
        this.lastSync = mono;
      }
      await this.work.schedule(since);
      await this.work.poll();
      this.lastError = undefined;
    } catch (error) {
      this.lastError = String(error);
      this.log.error('leader pass failed', { error: String(error) });
    }
  }

  /** Forces a definition sync on the next tick (tests publish a version and want it now). */
  syncSoon(): void {
    this.lastSync = -Infinity;
  }
}
