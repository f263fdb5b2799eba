import type { DataSource } from 'typeorm';
import type { SlotGrant, SlotHolder, SlotRequest, SlotStore } from '../ports/slot-store.port';
import { applyStrategies, evictedReason, pickGrants, refusedReason, type SlotStrategy } from './slot-grant.util';
import { SqlRateLimitStore } from './sql-rate-limit.store';

/** Queued requests one grant pass reads per scope (the rest wait for the next pass). */
const GRANT_WINDOW = 1_000;

const ms = (value: unknown): number => (value instanceof Date ? value.getTime() : new Date(String(value)).getTime());

/**
 * Slots in PostgreSQL (and PGlite): the `concurrency_slots` table, database time throughout.
 * A grant pass takes a transaction-scoped advisory lock per (namespace, scope), so scheduler
 * replicas never grant past a limit together.
 */
export class SqlSlotStore implements SlotStore {
  readonly rates: SqlRateLimitStore;

  constructor(private readonly dataSource: DataSource) {
    this.rates = new SqlRateLimitStore(dataSource);
  }

  async request(r: SlotRequest): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO concurrency_slots (token, namespace, scope, key, run_id, step_id, priority, slot_limit, strategy, state, requested_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'queued', clock_timestamp()) ON CONFLICT (token) DO NOTHING`,
      [r.token, r.namespace, r.scope, r.key, r.runId, r.stepId, r.priority, r.limit, r.strategy ?? 'queue'],
    );
  }

  async release(token: string, w: { namespace: string; scope: string; key: string; runId: string; stepId: string }): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO concurrency_slots (token, namespace, scope, key, run_id, step_id, priority, slot_limit, state, requested_at)
       VALUES ($1, $2, $3, $4, $5, $6, 0, 0, 'released', clock_timestamp())
       ON CONFLICT (token) DO UPDATE SET state = 'released', expires_at = clock_timestamp()`,
      [token, w.namespace, w.scope, w.key, w.runId, w.stepId],
    );
  }

  async grant(namespace: string, scope: string, leaseMs: number): Promise<SlotGrant[]> {
    return this.dataSource.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 16))`, [`${namespace}\n${scope}`]);
      // A released row's expires_at is when it was released (the purge counts its retention from there).
      await tx.query(`UPDATE concurrency_slots SET state = 'released' WHERE namespace = $1 AND scope = $2 AND state = 'held' AND expires_at <= clock_timestamp()`, [namespace, scope]);
      const held: { token: string; key: string; run_id: string; step_id: string }[] = await tx.query(
        `SELECT token, key, run_id, step_id FROM concurrency_slots WHERE namespace = $1 AND scope = $2 AND state = 'held' ORDER BY granted_at, token`,
        [namespace, scope],
      );
      const queued: { token: string; key: string; limit: number; strategy: SlotStrategy; run_id: string; step_id: string }[] = await tx.query(
        `SELECT token, key, slot_limit AS "limit", strategy, run_id, step_id FROM concurrency_slots
         WHERE namespace = $1 AND scope = $2 AND state = 'queued' ORDER BY priority, requested_at, token LIMIT ${GRANT_WINDOW}`,
        [namespace, scope],
      );
      const holders = new Map<string, string[]>();
      for (const h of held) holders.set(h.key, [...(holders.get(h.key) ?? []), h.token]);
      const { queued: eligible, refused, evicted, held: counts } = applyStrategies(queued, holders);
      const picked = pickGrants(eligible, counts);
      const gone = [...refused.map((r) => r.token), ...evicted];
      if (gone.length > 0) await tx.query(`UPDATE concurrency_slots SET state = 'released', expires_at = clock_timestamp() WHERE token = ANY($1::text[])`, [gone]);
      if (picked.length > 0) {
        await tx.query(
          `UPDATE concurrency_slots SET state = 'held', granted_at = clock_timestamp(), expires_at = clock_timestamp() + make_interval(secs => $2::double precision / 1000)
           WHERE token = ANY($1::text[]) AND state = 'queued'`,
          [picked.map((p) => p.token), leaseMs],
        );
      }
      const byToken = new Map(held.map((h) => [h.token, h]));
      return [
        ...picked.map((p): SlotGrant => ({ token: p.token, runId: p.run_id, stepId: p.step_id })),
        ...refused.map((r): SlotGrant => ({ token: r.token, runId: r.run_id, stepId: r.step_id, canceled: refusedReason(r) })),
        ...evicted.flatMap((token): SlotGrant[] => {
          const h = byToken.get(token);
          return h === undefined ? [] : [{ token, runId: h.run_id, stepId: h.step_id, canceled: evictedReason(h.key) }];
        }),
      ];
    });
  }

  async queuedScopes(): Promise<{ namespace: string; scope: string }[]> {
    return this.dataSource.query(`SELECT DISTINCT namespace, scope FROM concurrency_slots WHERE state = 'queued'`);
  }

  async expiring(withinMs: number, limit: number): Promise<(SlotHolder & { namespace: string; scope: string })[]> {
    const rows: { token: string; run_id: string; step_id: string; namespace: string; scope: string; granted_at: unknown; expires_at: unknown }[] = await this.dataSource.query(
      `SELECT token, run_id, step_id, namespace, scope, granted_at, expires_at FROM concurrency_slots
       WHERE state = 'held' AND expires_at < clock_timestamp() + make_interval(secs => $1::double precision / 1000) ORDER BY expires_at LIMIT $2`,
      [withinMs, limit],
    );
    return rows.map((r) => ({ token: r.token, runId: r.run_id, stepId: r.step_id, namespace: r.namespace, scope: r.scope, grantedAt: ms(r.granted_at), expiresAt: ms(r.expires_at) }));
  }

  async renew(tokens: readonly string[], leaseMs: number): Promise<void> {
    if (tokens.length === 0) return;
    await this.dataSource.query(
      `UPDATE concurrency_slots SET expires_at = clock_timestamp() + make_interval(secs => $2::double precision / 1000) WHERE token = ANY($1::text[]) AND state = 'held'`,
      [tokens, leaseMs],
    );
  }

  async purge(retentionMs: number): Promise<number> {
    // Rows released before this change kept no release time: their request time stands in.
    const rows: { n: number }[] = await this.dataSource.query(
      `WITH gone AS (DELETE FROM concurrency_slots WHERE state = 'released' AND coalesce(expires_at, requested_at) < clock_timestamp() - make_interval(secs => $1::double precision / 1000) RETURNING 1)
       SELECT count(*)::int AS n FROM gone`,
      [retentionMs],
    );
    return rows[0]?.n ?? 0;
  }

  async holders(namespace: string, scope: string, key: string): Promise<SlotHolder[]> {
    const rows: { token: string; run_id: string; step_id: string; granted_at: unknown; expires_at: unknown }[] = await this.dataSource.query(
      `SELECT token, run_id, step_id, granted_at, expires_at FROM concurrency_slots WHERE namespace = $1 AND scope = $2 AND key = $3 AND state = 'held' ORDER BY granted_at`,
      [namespace, scope, key],
    );
    return rows.map((r) => ({ token: r.token, runId: r.run_id, stepId: r.step_id, grantedAt: ms(r.granted_at), expiresAt: ms(r.expires_at) }));
  }
}
