import { parseDuration, TRIGGER_DEFAULTS } from '@weft/core';
import { sqlState } from '@weft/db';
import type { SqlTriggerStore } from '../persistence/sql-trigger.store';
import { refOf, type TriggerDefinition } from '../ports/trigger.types';
import type { TriggersLogger } from '../ports/triggers-logger.port';
import type { RecordOccurrenceUseCase } from './record-occurrence.usecase';

/** Signals younger than this are left for the next pass: one committed late must not fall behind the cursor. */
const SETTLE_MS = 2_000;
const SIGNALS_PER_PASS = 500;

interface Cursor {
  at: string;
  id: string;
}

interface SignalRow {
  id: string;
  name: string;
  key: string | null;
  data: unknown;
  received_at: Date;
}

/**
 * `event:` triggers: the leader reads the signals the scheduler stored (`signals`, read only;
 * from POST /v1/signals, `weft signal` and `weft.signal.<name>` alike — the scheduler's inbox
 * is a work queue no second consumer may share) after each trigger's cursor, and records each
 * as an occurrence `signal:<id>` (a signal starts at most one run per trigger).
 */
export class SignalTriggersUseCase {
  constructor(
    private readonly store: SqlTriggerStore,
    private readonly occurrences: RecordOccurrenceUseCase,
    private readonly log: TriggersLogger,
  ) {}

  async pass(): Promise<number> {
    let fired = 0;
    for (const def of await this.store.definitions(undefined, { active: true })) {
      if (def.kind !== 'event' || !def.spec.event) continue;
      try {
        fired += await this.passTrigger(def);
      } catch (error) {
        if (sqlState(error) === '42P01') return fired; // the scheduler has no signals table yet
        this.log.warn('event trigger pass failed', { trigger: `${def.workflow}/${def.triggerId}`, error: String(error) });
      }
    }
    return fired;
  }

  private async passTrigger(def: TriggerDefinition): Promise<number> {
    const ref = refOf(def);
    const state = await this.store.polling.pollState(this.store.dataSource, ref);
    const cursor = isCursor(state?.cursor) ? state.cursor : undefined;
    if (!cursor) {
      // A new trigger takes signals from its activation on.
      const [row] = (await this.store.dataSource.query(`SELECT (now() - ($1::double precision * interval '1 millisecond'))::text AS at`, [SETTLE_MS])) as { at: string }[];
      await this.store.polling.savePollState(this.store.dataSource, ref, { cursor: { at: row.at, id: '' }, failures: 0, nextPollAt: Date.now() });
      return 0;
    }
    const rows = (await this.store.dataSource.query(
      `SELECT id, name, key, data, received_at FROM signals
        WHERE namespace = $1 AND name = $2 AND (received_at, id) > ($3::timestamptz, $4)
          AND received_at < now() - ($5::double precision * interval '1 millisecond')
        ORDER BY received_at, id LIMIT $6`,
      [def.namespace, def.spec.event, cursor.at, cursor.id, SETTLE_MS, SIGNALS_PER_PASS],
    )) as SignalRow[];
    if (rows.length === 0) return 0;
    const last = rows[rows.length - 1];
    const [lastAt] = (await this.store.dataSource.query(`SELECT $1::timestamptz::text AS at`, [last.received_at])) as { at: string }[];
    const windowMs = parseDuration(def.spec.dedupeWindow ?? TRIGGER_DEFAULTS.dedupeWindow);
    const results = await this.occurrences.recordMany(
      rows.map((r) => ({
        def,
        occurrence: `signal:${r.id}`,
        context: { event: { id: r.id, name: r.name, key: r.key, data: r.data ?? null, receivedAt: new Date(r.received_at).toISOString() } },
        expressions: true,
        dedupeWindowMs: windowMs,
      })),
      (tx) => this.store.polling.savePollState(tx, ref, { cursor: { at: lastAt.at, id: last.id }, failures: 0, nextPollAt: Date.now() }),
    );
    return results.filter((r) => r.outcome === 'fired').length;
  }
}

function isCursor(value: unknown): value is Cursor {
  return value !== null && typeof value === 'object' && typeof (value as Cursor).at === 'string' && typeof (value as Cursor).id === 'string';
}
