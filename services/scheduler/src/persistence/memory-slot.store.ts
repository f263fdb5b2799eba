import type { SlotGrant, SlotHolder, SlotRequest, SlotStore } from '../ports/slot-store.port';
import { applyStrategies, evictedReason, pickGrants, refusedReason } from './slot-grant.util';
import { MemoryRateLimitStore } from './memory-rate-limit.store';

interface Row extends SlotRequest {
  state: 'queued' | 'held' | 'released';
  requestedAt: number;
  seq: number;
  grantedAt?: number;
  expiresAt?: number;
}

/** Slots in memory (embedded `weft run`, tests): one process, so the map is the lock. */
export class MemorySlotStore implements SlotStore {
  private readonly rows = new Map<string, Row>();
  private seq = 0;
  readonly rates: MemoryRateLimitStore;

  constructor(private readonly now: () => number = Date.now) {
    this.rates = new MemoryRateLimitStore(now);
  }

  async request(request: SlotRequest): Promise<void> {
    if (this.rows.has(request.token)) return;
    this.rows.set(request.token, { ...request, state: 'queued', requestedAt: this.now(), seq: ++this.seq });
  }

  async release(token: string, where: { namespace: string; scope: string; key: string; runId: string; stepId: string }): Promise<void> {
    const row = this.rows.get(token);
    if (row) Object.assign(row, { state: 'released', expiresAt: this.now() });
    else this.rows.set(token, { token, ...where, priority: 0, limit: 0, state: 'released', requestedAt: this.now(), expiresAt: this.now(), seq: ++this.seq });
  }

  async grant(namespace: string, scope: string, leaseMs: number): Promise<SlotGrant[]> {
    const now = this.now();
    const mine = [...this.rows.values()].filter((r) => r.namespace === namespace && r.scope === scope);
    // A released row's expiresAt is when it was released (the purge counts its retention from there).
    for (const r of mine) if (r.state === 'held' && (r.expiresAt ?? 0) <= now) r.state = 'released';
    const holders = new Map<string, string[]>();
    const oldestFirst = mine.filter((r) => r.state === 'held').sort((a, b) => (a.grantedAt ?? 0) - (b.grantedAt ?? 0) || a.seq - b.seq);
    for (const r of oldestFirst) holders.set(r.key, [...(holders.get(r.key) ?? []), r.token]);
    const queued = mine.filter((r) => r.state === 'queued').sort((a, b) => a.priority - b.priority || a.requestedAt - b.requestedAt || a.seq - b.seq);
    const { queued: eligible, refused, evicted, held } = applyStrategies(queued, holders);
    const picked = pickGrants(eligible, held);
    for (const r of picked) Object.assign(r, { state: 'held', grantedAt: now, expiresAt: now + leaseMs });
    const canceled: SlotGrant[] = [];
    for (const r of refused) {
      Object.assign(r, { state: 'released', expiresAt: now });
      canceled.push({ token: r.token, runId: r.runId, stepId: r.stepId, canceled: refusedReason(r) });
    }
    for (const token of evicted) {
      const r = this.rows.get(token);
      if (!r) continue;
      Object.assign(r, { state: 'released', expiresAt: now });
      canceled.push({ token: r.token, runId: r.runId, stepId: r.stepId, canceled: evictedReason(r.key) });
    }
    return [...picked.map((r) => ({ token: r.token, runId: r.runId, stepId: r.stepId })), ...canceled];
  }

  async queuedScopes(): Promise<{ namespace: string; scope: string }[]> {
    const seen = new Map<string, { namespace: string; scope: string }>();
    for (const r of this.rows.values()) if (r.state === 'queued') seen.set(`${r.namespace}\n${r.scope}`, { namespace: r.namespace, scope: r.scope });
    return [...seen.values()];
  }

  async expiring(withinMs: number, limit: number): Promise<(SlotHolder & { namespace: string; scope: string })[]> {
    const until = this.now() + withinMs;
    return [...this.rows.values()]
      .filter((r) => r.state === 'held' && (r.expiresAt ?? 0) < until)
      .slice(0, limit)
      .map((r) => ({ token: r.token, runId: r.runId, stepId: r.stepId, namespace: r.namespace, scope: r.scope, grantedAt: r.grantedAt ?? 0, expiresAt: r.expiresAt ?? 0 }));
  }

  async renew(tokens: readonly string[], leaseMs: number): Promise<void> {
    const now = this.now();
    for (const token of tokens) {
      const row = this.rows.get(token);
      if (row?.state === 'held') row.expiresAt = now + leaseMs;
    }
  }

  async purge(retentionMs: number): Promise<number> {
    const before = this.now() - retentionMs;
    let purged = 0;
    for (const [token, r] of this.rows) {
      if (r.state !== 'released' || (r.expiresAt ?? r.requestedAt) >= before) continue;
      this.rows.delete(token);
      purged++;
    }
    return purged;
  }

  async holders(namespace: string, scope: string, key: string): Promise<SlotHolder[]> {
    return [...this.rows.values()]
      .filter((r) => r.state === 'held' && r.namespace === namespace && r.scope === scope && r.key === key)
      .map((r) => ({ token: r.token, runId: r.runId, stepId: r.stepId, grantedAt: r.grantedAt ?? 0, expiresAt: r.expiresAt ?? 0 }));
  }
}
