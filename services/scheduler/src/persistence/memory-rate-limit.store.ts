import { gcraReserve } from '@weft/core';
import type { RateLimitStore, RateReservation } from '../ports/rate-limit-store.port';

/** Rate limits in memory (embedded `weft run`, tests): one process, so the map is the lock. */
export class MemoryRateLimitStore implements RateLimitStore {
  private readonly tats = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  async reserve(r: RateReservation): Promise<{ startAt: number }> {
    const id = `${r.namespace}\n${r.scope}\n${r.key}`;
    const { startAt, tat } = gcraReserve(this.tats.get(id), this.now(), r);
    this.tats.set(id, tat);
    return { startAt };
  }

  async purge(): Promise<number> {
    const now = this.now();
    let purged = 0;
    for (const [id, tat] of this.tats) {
      if (tat >= now) continue;
      this.tats.delete(id);
      purged++;
    }
    return purged;
  }
}
