/** PostgreSQL helpers for the benchmark: admin statements, per-database counters, query counting. */
import pg from 'pg';

export const PG_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/test';
export const pgUrl = (database: string): string => `postgres://postgres@127.0.0.1:5432/${database}`;

/** One statement on a short-lived connection to the shared `test` database. */
export async function adminQuery<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    return (await client.query<R>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

export interface PgCounters {
  commits: number;
  rollbacks: number;
  /** Cluster-wide: every database's WAL, other engineers' tests included. */
  walBytes: number;
}

/**
 * Commit counters of one database (its own, so other databases' traffic does not count)
 * and the cluster's WAL position. Backends publish their counters when idle, at most
 * once a second: wait a moment after the work before reading.
 */
export async function pgCounters(database: string): Promise<PgCounters> {
  const rows = await adminQuery<{ commits: string; rollbacks: string; wal: string }>(
    `SELECT xact_commit::text AS commits, xact_rollback::text AS rollbacks, (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::text AS wal
     FROM pg_stat_database WHERE datname = $1`,
    [database],
  );
  const row = rows[0];
  if (!row) throw new Error(`no pg_stat_database row for ${database}`);
  return { commits: Number(row.commits), rollbacks: Number(row.rollbacks), walBytes: Number(row.wal) };
}

/**
 * Counts round trips of every pg client in this process by statement kind (BEGIN,
 * COMMIT, SELECT, WITH, UPDATE, ...). Installs once; returns a snapshot function.
 */
let queryCounts: Record<string, number> | undefined;
export function countPgQueries(): () => Record<string, number> {
  if (!queryCounts) {
    const counts: Record<string, number> = {};
    queryCounts = counts;
    const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
    const original = proto.query;
    proto.query = function (this: unknown, ...args: unknown[]) {
      const first = args[0];
      const text = typeof first === 'string' ? first : typeof first === 'object' && first !== null && 'text' in first ? String(first.text) : '';
      const kind = (/^\s*([A-Za-z]+)/.exec(text)?.[1] ?? 'other').toUpperCase();
      counts[kind] = (counts[kind] ?? 0) + 1;
      counts.total = (counts.total ?? 0) + 1;
      return original.apply(this, args);
    };
  }
  const counts = queryCounts;
  return () => ({ ...counts });
}
