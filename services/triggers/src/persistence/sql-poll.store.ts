import type { TriggerRef } from '../ports/trigger.types';
import { refArgs, type Sql } from './trigger-rows.util';

/** What polling and dedupe remember per trigger: the poll cursor and backoff (`trigger_poll_state`), and seen keys (`trigger_seen_keys`). */
export class SqlPollStore {
  async pollState(sql: Sql, ref: TriggerRef): Promise<{ cursor: unknown; failures: number; nextPollAt: number } | undefined> {
    const rows = (await sql.query(`SELECT cursor, failures, next_poll_at FROM trigger_poll_state WHERE namespace = $1 AND workflow = $2 AND trigger_id = $3 FOR UPDATE`, refArgs(ref))) as {
      cursor: unknown;
      failures: number;
      next_poll_at: Date;
    }[];
    return rows[0] && { cursor: rows[0].cursor ?? undefined, failures: rows[0].failures, nextPollAt: new Date(rows[0].next_poll_at).getTime() };
  }

  async savePollState(sql: Sql, ref: TriggerRef, state: { cursor: unknown; failures: number; nextPollAt: number; lastError?: string }): Promise<void> {
    await sql.query(
      `INSERT INTO trigger_poll_state (namespace, workflow, trigger_id, cursor, failures, next_poll_at, last_error) VALUES ($1, $2, $3, $4::jsonb, $5, $6::timestamptz, $7)
       ON CONFLICT (namespace, workflow, trigger_id) DO UPDATE SET cursor = EXCLUDED.cursor, failures = EXCLUDED.failures, next_poll_at = EXCLUDED.next_poll_at, last_error = EXCLUDED.last_error`,
      [...refArgs(ref), state.cursor === undefined ? null : JSON.stringify(state.cursor), state.failures, new Date(state.nextPollAt).toISOString(), state.lastError ?? null],
    );
  }

  async seenKeys(sql: Sql, ref: TriggerRef, keys: string[]): Promise<Set<string>> {
    if (keys.length === 0) return new Set();
    const rows = (await sql.query(`SELECT key FROM trigger_seen_keys WHERE namespace = $1 AND workflow = $2 AND trigger_id = $3 AND key = ANY($4::text[])`, [...refArgs(ref), keys])) as {
      key: string;
    }[];
    return new Set(rows.map((r) => r.key));
  }

  /** Remembers keys and forgets the oldest beyond `capacity`. */
  async rememberKeys(sql: Sql, ref: TriggerRef, keys: string[], capacity: number): Promise<void> {
    if (keys.length === 0) return;
    await sql.query(
      `INSERT INTO trigger_seen_keys (namespace, workflow, trigger_id, key) SELECT $1, $2, $3, unnest($4::text[]) ON CONFLICT DO NOTHING`,
      [...refArgs(ref), keys],
    );
    await sql.query(
      `DELETE FROM trigger_seen_keys WHERE namespace = $1 AND workflow = $2 AND trigger_id = $3 AND key IN (
         SELECT key FROM trigger_seen_keys WHERE namespace = $1 AND workflow = $2 AND trigger_id = $3 ORDER BY seen_at DESC, key OFFSET $4)`,
      [...refArgs(ref), capacity],
    );
  }

  /** Claims a dedupe key for its window: true when new (or its window passed), false for a duplicate. */
  async claimDedupeKey(sql: Sql, ref: TriggerRef, key: string, windowMs: number): Promise<boolean> {
    const rows = (await sql.query(
      `INSERT INTO trigger_seen_keys (namespace, workflow, trigger_id, key) VALUES ($1, $2, $3, $4)
       ON CONFLICT (namespace, workflow, trigger_id, key) DO UPDATE SET seen_at = now()
        WHERE trigger_seen_keys.seen_at < now() - ($5::double precision * interval '1 millisecond')
       RETURNING key`,
      [...refArgs(ref), key, windowMs],
    )) as unknown[];
    return rows.length > 0;
  }
}
