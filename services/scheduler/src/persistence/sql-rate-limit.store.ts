import { rateInterval, rateTolerance } from '@weft/core';
import type { DataSource } from 'typeorm';
import type { RateLimitStore, RateReservation } from '../ports/rate-limit-store.port';

/**
 * Rate limits in PostgreSQL (and PGlite): the `rate_limits` table, one TAT per (namespace, scope,
 * key). A reservation is one `INSERT .. ON CONFLICT DO UPDATE .. RETURNING`: the row lock
 * serialises replicas, and the update is `gcraReserve` (@weft/core) in SQL, on database time.
 */
export class SqlRateLimitStore implements RateLimitStore {
  constructor(private readonly dataSource: DataSource) {}

  async reserve(r: RateReservation): Promise<{ startAt: number }> {
    const interval = rateInterval(r);
    const rows: { tat: number; now: number }[] = await this.dataSource.query(
      `WITH c AS (SELECT clock_timestamp() AS now)
       INSERT INTO rate_limits (namespace, scope, key, tat)
       SELECT $1, $2, $3, c.now + make_interval(secs => $4::double precision / 1000) FROM c
       ON CONFLICT (namespace, scope, key) DO UPDATE
         SET tat = greatest(rate_limits.tat + make_interval(secs => $4::double precision / 1000), EXCLUDED.tat)
       RETURNING extract(epoch FROM tat)::double precision * 1000 AS tat, (SELECT extract(epoch FROM now)::double precision * 1000 FROM c) AS now`,
      [r.namespace, r.scope, r.key, interval],
    );
    const row = rows[0];
    if (row === undefined) throw new Error('rate limit reservation returned no row');
    const tat = Number(row.tat);
    const now = Number(row.now);
    // The new TAT is max(old TAT, now) + interval: the start is that base less the burst tolerance.
    return { startAt: Math.max(now, tat - interval - rateTolerance(r)) };
  }

  async purge(): Promise<number> {
    const rows: { n: number }[] = await this.dataSource.query(`WITH gone AS (DELETE FROM rate_limits WHERE tat < clock_timestamp() RETURNING 1) SELECT count(*)::int AS n FROM gone`);
    return rows[0]?.n ?? 0;
  }
}
