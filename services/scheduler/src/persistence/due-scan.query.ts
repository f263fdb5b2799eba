import { TERMINAL_RUN_STATUSES } from '@weft/core';
import { type DueScan, type LeaseRef, type TimerRecord } from '../ports/run-store.port';
import { iso, millis } from './run-state.mapper';
import { type Sql } from './run-sql.util';

/**
 * The SQL store's reads for the timer scan: due timers, lapsed leases and the next fire
 * time, each alone or all in one read-only statement (`scanDue`). Database time only.
 */
export class SqlDueScan {
  constructor(private readonly sql: Sql) {}

  async dueTimers(now: number, limit: number): Promise<TimerRecord[]> {
    const rows: TimerRow[] = await this.sql.query(
      `SELECT run_id, timer, step_id, attempt, fire_at FROM timers
       WHERE fire_at <= $1::timestamptz ORDER BY fire_at, run_id, timer, step_id LIMIT $2`,
      [iso(now), limit],
    );
    return rows.map(rowToTimer);
  }

  async nextTimerAt(): Promise<number | undefined> {
    const rows: { at: Date | null }[] = await this.sql.query('SELECT min(fire_at) AS at FROM timers');
    const at = rows[0].at;
    return at === null ? undefined : millis(at);
  }

  async expiredLeases(now: number, limit: number): Promise<LeaseRef[]> {
    const rows: LeaseRow[] = await this.sql.query(
      `SELECT s.run_id, s.step_id, s.attempt FROM step_runs s JOIN runs r ON r.id = s.run_id
       WHERE s.status IN ('queued', 'running') AND s.lease_expires_at <= $1::timestamptz
         AND r.status NOT IN (SELECT jsonb_array_elements_text($3::jsonb))
       ORDER BY s.lease_expires_at, s.run_id, s.step_id LIMIT $2`,
      [iso(now), limit, JSON.stringify(TERMINAL_RUN_STATUSES)],
    );
    return rows.map(rowToLease);
  }

  /**
   * `now`, `dueTimers`, `expiredLeases`, `nextTimerAt`, whether a signal delivery waits and whether
   * an outbox row is up for the relay (`pendingOutbox`'s predicate, at the same `now`), for one
   * timer scan, in one read-only statement (one commit, not six).
   */
  async scanDue(limit: number): Promise<DueScan> {
    const rows: { now: Date; next_at: Date | null; deliveries: boolean; outbox: boolean; timers: DueTimerJson[]; leases: LeaseRow[] }[] = await this.sql.query(
      `WITH at AS (SELECT clock_timestamp() AS now),
       due AS (
         SELECT t.run_id, t.timer, t.step_id, t.attempt, t.fire_at FROM timers t, at
         WHERE t.fire_at <= at.now ORDER BY t.fire_at, t.run_id, t.timer, t.step_id LIMIT $1),
       lapsed AS (
         SELECT s.run_id, s.step_id, s.attempt, s.lease_expires_at FROM step_runs s JOIN runs r ON r.id = s.run_id, at
         WHERE s.status IN ('queued', 'running') AND s.lease_expires_at <= at.now
           AND r.status NOT IN (SELECT jsonb_array_elements_text($2::jsonb))
         ORDER BY s.lease_expires_at, s.run_id, s.step_id LIMIT $1)
       SELECT at.now,
         (SELECT min(fire_at) FROM timers) AS next_at,
         EXISTS (SELECT 1 FROM signal_deliveries) AS deliveries,
         EXISTS (SELECT 1 FROM outbox o WHERE o.published_at IS NULL AND o.quarantined_at IS NULL
                 AND (o.claimed_until IS NULL OR o.claimed_until <= at.now)) AS outbox,
         (SELECT coalesce(jsonb_agg(jsonb_build_object('run_id', run_id, 'timer', timer, 'step_id', step_id, 'attempt', attempt,
                   'fire_ms', floor(extract(epoch FROM fire_at) * 1000)) ORDER BY fire_at, run_id, timer, step_id), '[]'::jsonb) FROM due) AS timers,
         (SELECT coalesce(jsonb_agg(jsonb_build_object('run_id', run_id, 'step_id', step_id, 'attempt', attempt)
                   ORDER BY lease_expires_at, run_id, step_id), '[]'::jsonb) FROM lapsed) AS leases
       FROM at`,
      [limit, JSON.stringify(TERMINAL_RUN_STATUSES)],
    );
    const row = rows[0];
    return {
      now: millis(row.now),
      nextTimerAt: row.next_at === null ? undefined : millis(row.next_at),
      deliveriesPending: row.deliveries,
      outboxPending: row.outbox,
      timers: row.timers.map((t) => rowToTimer({ ...t, fire_at: new Date(Number(t.fire_ms)) })),
      leases: row.leases.map(rowToLease),
    };
  }
}

interface LeaseRow {
  run_id: string;
  step_id: string;
  attempt: number;
}

/** A due timer as `scanDue` aggregates it (fire_at as epoch ms). */
type DueTimerJson = Omit<TimerRow, 'fire_at'> & { fire_ms: number | string };

interface TimerRow {
  run_id: string;
  timer: TimerRecord['timer'];
  step_id: string;
  attempt: number | null;
  fire_at: Date;
}

function rowToLease(row: LeaseRow): LeaseRef {
  return { runId: row.run_id, stepId: row.step_id, attempt: row.attempt };
}

function rowToTimer(row: TimerRow): TimerRecord {
  const timer: TimerRecord = { runId: row.run_id, timer: row.timer, stepId: row.step_id, fireAt: millis(row.fire_at) };
  if (row.attempt !== null) timer.attempt = row.attempt;
  return timer;
}
