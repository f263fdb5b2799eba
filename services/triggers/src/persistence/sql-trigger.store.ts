import { randomUUID } from 'node:crypto';
import type { RunRequested } from '@weft/contracts';
import { Triggers } from '@weft/core';
import { type DatabaseConfig, type OpenMigratedOptions, openMigrated, sqlState, type WalkedRows, walkedStep, withTransaction } from '@weft/db';
import type { DataSource } from 'typeorm';
import type { FireOutcome, TriggerKind } from '../domain/fire-log';
import type { FireRecord, NewFire, PublishedWorkflow, TriggerDefinition, TriggerRef } from '../ports/trigger.types';
import { SqlLeaseStore } from './sql-lease.store';
import { SqlPollStore } from './sql-poll.store';
import { DEFINITION_COLUMNS, type DefinitionRow, FIRE_COLUMNS, type FireRow, ms, refArgs, type Sql, toDefinition, toFire } from './trigger-rows.util';
import { TRIGGERS_MIGRATIONS, TRIGGERS_MIGRATIONS_TABLE } from './triggers-schema';

export type { Sql } from './trigger-rows.util';

/** Run statuses after which a run no longer counts as active for overlap. */
const TERMINAL = ['completed', 'partially_completed', 'failed', 'canceled'];
/** Fires whose run the scheduler has not created yet still count as active for this long. */
const PENDING_RUN_WINDOW = '5 minutes';
/** Most definitions the service keeps (bounds every scan). */
export const MAX_DEFINITIONS = 10_000;

/** Every table access of the service (PostgreSQL; the same SQL runs on PGlite). */
export class SqlTriggerStore {
  /** The leader lease. */
  readonly leases: SqlLeaseStore;
  /** Poll cursors, seen keys and dedupe keys. */
  readonly polling = new SqlPollStore();

  constructor(readonly dataSource: DataSource) {
    this.leases = new SqlLeaseStore(dataSource);
  }

  transaction<T>(work: (tx: Sql) => Promise<T>): Promise<T> {
    return withTransaction(this.dataSource, work);
  }

  async now(): Promise<number> {
    const [row] = (await this.dataSource.query('SELECT now() AS now')) as { now: Date }[];
    return new Date(row.now).getTime();
  }

  // ---- published versions (the scheduler's tables, read only) ----

  /** The triggers of every published version; none while the scheduler's tables do not exist yet. */
  async publishedWorkflows(): Promise<PublishedWorkflow[]> {
    let rows: { namespace: string; workflow: string; version: number; triggers: unknown }[];
    try {
      rows = (await this.dataSource.query(
        `SELECT w.namespace, w.name AS workflow, w.published_version AS version, v.spec -> 'triggers' AS triggers
           FROM workflows w
           JOIN workflow_versions v ON v.namespace = w.namespace AND v.workflow = w.name AND v.version = w.published_version
          WHERE w.published_version IS NOT NULL AND jsonb_typeof(v.spec -> 'triggers') = 'array'
          LIMIT $1`,
        [MAX_DEFINITIONS],
      )) as typeof rows;
    } catch (error) {
      if (sqlState(error) === '42P01') return []; // undefined_table: the scheduler has not migrated yet
      throw error;
    }
    const out: PublishedWorkflow[] = [];
    for (const row of rows) {
      // Published specs were validated; a spec stored before triggers existed may not parse: skip it.
      const parsed = Triggers.safeParse(row.triggers);
      if (parsed.success) out.push({ namespace: row.namespace, workflow: row.workflow, version: Number(row.version), triggers: parsed.data });
    }
    return out;
  }

  // ---- definitions ----

  async definitions(sql: Sql = this.dataSource, where: { active?: boolean; namespace?: string } = {}): Promise<TriggerDefinition[]> {
    const rows = (await sql.query(
      `SELECT ${DEFINITION_COLUMNS} FROM trigger_definitions
        WHERE ($1::boolean IS NULL OR active = $1) AND ($2::text IS NULL OR namespace = $2)
        ORDER BY namespace, workflow, trigger_id LIMIT $3`,
      [where.active ?? null, where.namespace ?? null, MAX_DEFINITIONS],
    )) as DefinitionRow[];
    return rows.map(toDefinition);
  }

  async definition(ref: TriggerRef, sql: Sql = this.dataSource): Promise<TriggerDefinition | undefined> {
    const rows = (await sql.query(
      `SELECT ${DEFINITION_COLUMNS} FROM trigger_definitions
        WHERE namespace = $1 AND workflow = $2 AND trigger_id = $3`,
      refArgs(ref),
    )) as DefinitionRow[];
    return rows[0] && toDefinition(rows[0]);
  }

  /**
   * Makes the active definitions of (namespace, workflow) those of `published` (its version's
   * triggers). A trigger kept across versions keeps its pause and its schedule position when
   * its kind is unchanged. Returns the triggers whose definition changed.
   */
  async replaceWorkflowTriggers(sql: Sql, published: PublishedWorkflow, kinds: Map<string, TriggerKind>, nowMs: number): Promise<number> {
    const ids = published.triggers.map((t) => t.id);
    await sql.query(
      `UPDATE trigger_definitions SET active = false, updated_at = now()
        WHERE namespace = $1 AND workflow = $2 AND active AND NOT (trigger_id = ANY($3::text[]))`,
      [published.namespace, published.workflow, ids],
    );
    let changed = 0;
    for (const trigger of published.triggers) {
      const kind = kinds.get(trigger.id);
      if (kind === undefined) continue;
      const rows = (await sql.query(
        `INSERT INTO trigger_definitions (namespace, workflow, trigger_id, version, kind, spec, active, handled_until)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb, true, $7::timestamptz)
         ON CONFLICT (namespace, workflow, trigger_id) DO UPDATE
           SET version = EXCLUDED.version, kind = EXCLUDED.kind, spec = EXCLUDED.spec, active = true, updated_at = now(),
               handled_until = CASE WHEN trigger_definitions.kind = EXCLUDED.kind AND trigger_definitions.active
                                    THEN trigger_definitions.handled_until ELSE EXCLUDED.handled_until END
           WHERE trigger_definitions.version IS DISTINCT FROM EXCLUDED.version OR NOT trigger_definitions.active
         RETURNING trigger_id`,
        [published.namespace, published.workflow, trigger.id, published.version, kind, JSON.stringify(trigger), new Date(nowMs).toISOString()],
      )) as unknown[];
      changed += rows.length;
    }
    return changed;
  }

  /** Deactivates the triggers of workflows no longer published. */
  async deactivateUnpublished(sql: Sql, keep: ReadonlySet<string>): Promise<number> {
    const active = (await sql.query(`SELECT DISTINCT namespace, workflow FROM trigger_definitions WHERE active`)) as { namespace: string; workflow: string }[];
    let n = 0;
    for (const row of active) {
      if (keep.has(`${row.namespace}/${row.workflow}`)) continue;
      await sql.query(`UPDATE trigger_definitions SET active = false, updated_at = now() WHERE namespace = $1 AND workflow = $2 AND active`, [row.namespace, row.workflow]);
      n++;
    }
    return n;
  }

  async setPaused(ref: TriggerRef, paused: boolean, sql: Sql = this.dataSource): Promise<boolean> {
    const rows = (await sql.query(
      `UPDATE trigger_definitions SET paused = $4, updated_at = now() WHERE namespace = $1 AND workflow = $2 AND trigger_id = $3 AND active RETURNING trigger_id`,
      [...refArgs(ref), paused],
    )) as unknown[][];
    return (rows[0]?.length ?? 0) > 0;
  }

  async setHandledUntil(sql: Sql, ref: TriggerRef, tickMs: number): Promise<void> {
    await sql.query(`UPDATE trigger_definitions SET handled_until = $4::timestamptz WHERE namespace = $1 AND workflow = $2 AND trigger_id = $3`, [
      ...refArgs(ref),
      new Date(tickMs).toISOString(),
    ]);
  }

  /** Locks a definition row for one planning pass (two leaders for a moment still plan one at a time). */
  async lockDefinition(sql: Sql, ref: TriggerRef): Promise<TriggerDefinition | undefined> {
    const rows = (await sql.query(
      `SELECT ${DEFINITION_COLUMNS} FROM trigger_definitions
        WHERE namespace = $1 AND workflow = $2 AND trigger_id = $3 FOR UPDATE`,
      refArgs(ref),
    )) as DefinitionRow[];
    return rows[0] && toDefinition(rows[0]);
  }

  // ---- the fire log and its outbox ----

  /**
   * Records a fire. A claiming row owns its occurrence: when another row already does, this
   * one is recorded as `duplicate` (not claiming) and nothing is requested.
   */
  async recordFire(sql: Sql, fire: NewFire): Promise<{ claimed: boolean; record: FireRecord }> {
    const claims = fire.claims ?? true;
    const request: RunRequested | undefined = fire.outcome === 'fired' ? fire.request : undefined;
    const args = [
      ...refArgs(fire.ref),
      fire.kind,
      fire.occurrence,
      claims,
      fire.outcome,
      fire.reason ?? null,
      request?.runId ?? null,
      request?.idempotencyKey ?? null,
      fire.scheduledAt === undefined ? null : new Date(fire.scheduledAt).toISOString(),
      request === undefined ? null : JSON.stringify(request),
      fire.held ?? false,
    ];
    const insert = `INSERT INTO trigger_fires (namespace, workflow, trigger_id, kind, occurrence, claims, outcome, reason, run_id, idempotency_key, scheduled_at, request, held)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::timestamptz, $12::jsonb, $13)`;
    if (claims) {
      const rows = (await sql.query(`${insert} ON CONFLICT (namespace, workflow, trigger_id, occurrence) WHERE claims DO NOTHING RETURNING ${FIRE_COLUMNS}`, args)) as FireRow[];
      if (rows[0]) return { claimed: true, record: toFire(rows[0]) };
      const dup = [...args];
      dup[5] = false;
      dup[6] = 'duplicate';
      dup[7] = `occurrence ${fire.occurrence} was already recorded`;
      dup[8] = null;
      dup[9] = null;
      dup[11] = null;
      dup[12] = false;
      const [row] = (await sql.query(`${insert} RETURNING ${FIRE_COLUMNS}`, dup)) as FireRow[];
      return { claimed: false, record: toFire(row) };
    }
    const [row] = (await sql.query(`${insert} RETURNING ${FIRE_COLUMNS}`, args)) as FireRow[];
    return { claimed: false, record: toFire(row) };
  }

  /** The run request of a fired row, to publish after commit. */
  async requestOf(id: string, sql: Sql = this.dataSource): Promise<RunRequested | undefined> {
    const rows = (await sql.query(`SELECT request FROM trigger_fires WHERE id = $1::bigint`, [id])) as { request: RunRequested | null }[];
    return rows[0]?.request ?? undefined;
  }

  /** Fired rows not yet published (and not held), oldest first, older than `minAgeMs`; locked for this transaction. */
  async unpublished(sql: Sql, limit: number, minAgeMs: number): Promise<{ id: string; request: RunRequested }[]> {
    return (await sql.query(
      `SELECT id::text AS id, request FROM trigger_fires
        WHERE outcome = 'fired' AND published_at IS NULL AND NOT held AND request IS NOT NULL AND created_at < now() - ($2::double precision * interval '1 millisecond')
        ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
      [limit, minAgeMs],
    )) as { id: string; request: RunRequested }[];
  }

  async markPublished(ids: string[], sql: Sql = this.dataSource): Promise<void> {
    if (ids.length === 0) return;
    await sql.query(`UPDATE trigger_fires SET published_at = now() WHERE id = ANY($1::bigint[]) AND published_at IS NULL`, [ids]);
  }

  /**
   * Fire log retention, one step (PruneFiresUseCase): among the next `batch` rows after `after`
   * (an id; undefined starts at the oldest), deletes those created more than `retentionMs` ago
   * (database time), except rows still at work (held by overlap, or fired and not yet published)
   * and each trigger's newest claiming row and newest fired or skipped one (its "last fire" and
   * what the overdue metric reads). `next` is undefined once the step saw the table's end or a row
   * created inside the retention (ids follow creation).
   */
  async pruneFires(retentionMs: number, batch: number, after?: string): Promise<{ deleted: number; next: string | undefined }> {
    const [row] = (await this.dataSource.query(
      `WITH cutoff AS (SELECT clock_timestamp() - $1::double precision * interval '1 millisecond' AS at),
       head AS (
         SELECT id, namespace, workflow, trigger_id, claims, held, outcome, published_at, created_at FROM trigger_fires
          WHERE id > $3::bigint ORDER BY id LIMIT $2),
       gone AS (
         DELETE FROM trigger_fires f USING head h, cutoff c
          WHERE f.id = h.id AND h.created_at < c.at AND NOT h.held AND NOT (h.outcome = 'fired' AND h.published_at IS NULL)
            AND (NOT h.claims OR (
              EXISTS (SELECT 1 FROM trigger_fires n WHERE n.namespace = h.namespace AND n.workflow = h.workflow AND n.trigger_id = h.trigger_id AND n.claims AND n.id > h.id)
              AND (h.outcome NOT IN ('fired', 'skipped') OR EXISTS (
                SELECT 1 FROM trigger_fires n WHERE n.namespace = h.namespace AND n.workflow = h.workflow AND n.trigger_id = h.trigger_id AND n.claims AND n.id > h.id AND n.outcome IN ('fired', 'skipped')))))
          RETURNING 1)
       SELECT (SELECT count(*)::int FROM gone) AS deleted, (SELECT count(*)::int FROM head) AS seen, (SELECT max(id)::text FROM head) AS last,
              (SELECT bool_or(h.created_at >= c.at) FROM head h, cutoff c) AS reached`,
      [retentionMs, batch, after ?? '0'],
    )) as WalkedRows[];
    return walkedStep(row, batch);
  }

  /** Runs of the trigger that have not ended (requested runs the scheduler has not created yet count too). */
  async activeRunIds(sql: Sql, ref: TriggerRef): Promise<string[]> {
    let rows: { run_id: string }[];
    try {
      rows = (await sql.query(
        `SELECT f.run_id FROM (
            SELECT run_id, created_at FROM trigger_fires
             WHERE namespace = $1 AND workflow = $2 AND trigger_id = $3 AND outcome = 'fired' AND claims AND NOT held
             ORDER BY id DESC LIMIT 200) f
           LEFT JOIN runs r ON r.id = f.run_id
          WHERE (r.id IS NULL AND f.created_at > now() - interval '${PENDING_RUN_WINDOW}') OR (r.id IS NOT NULL AND NOT (r.status = ANY($4::text[])))`,
        [...refArgs(ref), TERMINAL],
      )) as { run_id: string }[];
    } catch (error) {
      if (sqlState(error) === '42P01') return [];
      throw error;
    }
    return rows.map((r) => r.run_id);
  }

  async heldCount(sql: Sql, ref: TriggerRef): Promise<number> {
    const [row] = (await sql.query(`SELECT count(*)::int AS n FROM trigger_fires WHERE namespace = $1 AND workflow = $2 AND trigger_id = $3 AND held`, refArgs(ref))) as { n: number }[];
    return row.n;
  }

  /** Un-holds the oldest held fire of the trigger; returns its id. */
  async releaseOldestHeld(sql: Sql, ref: TriggerRef): Promise<string | undefined> {
    const rows = (await sql.query(
      `UPDATE trigger_fires SET held = false WHERE id = (
          SELECT id FROM trigger_fires WHERE namespace = $1 AND workflow = $2 AND trigger_id = $3 AND held ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
        RETURNING id::text AS id`,
      refArgs(ref),
    )) as { id: string }[][] | { id: string }[];
    const flat = (Array.isArray(rows[0]) ? rows[0] : rows) as { id: string }[];
    return flat[0]?.id;
  }

  async triggersWithHeld(): Promise<TriggerRef[]> {
    const rows = (await this.dataSource.query(`SELECT DISTINCT namespace, workflow, trigger_id FROM trigger_fires WHERE held LIMIT 1000`)) as {
      namespace: string;
      workflow: string;
      trigger_id: string;
    }[];
    return rows.map((r) => ({ namespace: r.namespace, workflow: r.workflow, triggerId: r.trigger_id }));
  }

  async fires(ref: TriggerRef, options: { limit: number; before?: string; outcome?: FireOutcome }): Promise<FireRecord[]> {
    const rows = (await this.dataSource.query(
      `SELECT ${FIRE_COLUMNS} FROM trigger_fires
        WHERE namespace = $1 AND workflow = $2 AND trigger_id = $3 AND ($5::bigint IS NULL OR id < $5::bigint) AND ($6::text IS NULL OR outcome = $6)
        ORDER BY id DESC LIMIT $4`,
      [...refArgs(ref), options.limit, options.before ?? null, options.outcome ?? null],
    )) as FireRow[];
    return rows.map(toFire);
  }

  /** Outcome counts and the last fire of every trigger of a namespace. */
  async fireSummaries(namespace: string): Promise<Map<string, { counts: Partial<Record<FireOutcome, number>>; last: FireRecord | undefined }>> {
    const counts = (await this.dataSource.query(
      `SELECT workflow, trigger_id, outcome, count(*)::int AS n FROM trigger_fires WHERE namespace = $1 GROUP BY workflow, trigger_id, outcome`,
      [namespace],
    )) as { workflow: string; trigger_id: string; outcome: FireOutcome; n: number }[];
    const lasts = (await this.dataSource.query(
      `SELECT DISTINCT ON (workflow, trigger_id) ${FIRE_COLUMNS} FROM trigger_fires WHERE namespace = $1 AND claims ORDER BY workflow, trigger_id, id DESC`,
      [namespace],
    )) as FireRow[];
    const out = new Map<string, { counts: Partial<Record<FireOutcome, number>>; last: FireRecord | undefined }>();
    const entry = (wf: string, tr: string) => {
      const key = `${wf}/${tr}`;
      let e = out.get(key);
      if (!e) out.set(key, (e = { counts: {}, last: undefined }));
      return e;
    };
    for (const c of counts) entry(c.workflow, c.trigger_id).counts[c.outcome] = c.n;
    for (const l of lasts) entry(l.workflow, l.trigger_id).last = toFire(l);
    return out;
  }

  /** Per active, unpaused cron trigger: when its last tick fired (or was skipped by overlap), epoch ms; null when never. */
  async lastScheduleFires(): Promise<{ ref: TriggerRef; def: TriggerDefinition; lastAt: number | null }[]> {
    const defs = (await this.definitions(undefined, { active: true })).filter((d) => d.kind === 'cron' && !d.paused);
    if (defs.length === 0) return [];
    const rows = (await this.dataSource.query(
      `SELECT d.namespace, d.workflow, d.trigger_id, (SELECT max(f.scheduled_at) FROM trigger_fires f
          WHERE f.namespace = d.namespace AND f.workflow = d.workflow AND f.trigger_id = d.trigger_id AND f.claims AND f.outcome IN ('fired', 'skipped')) AS last_at
         FROM trigger_definitions d WHERE d.active AND NOT d.paused AND d.kind = 'cron' LIMIT $1`,
      [MAX_DEFINITIONS],
    )) as { namespace: string; workflow: string; trigger_id: string; last_at: Date | null }[];
    const byKey = new Map(defs.map((d) => [`${d.namespace}/${d.workflow}/${d.triggerId}`, d]));
    return rows.flatMap((r) => {
      const def = byKey.get(`${r.namespace}/${r.workflow}/${r.trigger_id}`);
      return def ? [{ ref: { namespace: r.namespace, workflow: r.workflow, triggerId: r.trigger_id }, def, lastAt: ms(r.last_at) }] : [];
    });
  }

  // ---- the audit log (the scheduler's table; written when it exists) ----

  private auditTable: Promise<boolean> | undefined;

  /** Appends to the deployment's audit log in `sql`'s transaction; nothing while the scheduler has not created it. */
  async audit(sql: Sql, entry: { namespace: string; actor: unknown; action: string; targetId: string; details: Record<string, unknown> }): Promise<void> {
    this.auditTable ??= this.dataSource
      .query(`SELECT to_regclass('audit') IS NOT NULL AS present`)
      .then((rows: { present: boolean }[]) => rows[0]?.present === true);
    if (!(await this.auditTable)) {
      this.auditTable = undefined;
      return;
    }
    await sql.query(`INSERT INTO audit (at, namespace, actor, action, target_kind, target_id, details) VALUES (now(), $1, $2::jsonb, $3, 'trigger', $4, $5::jsonb)`, [
      entry.namespace,
      JSON.stringify(entry.actor),
      entry.action,
      entry.targetId,
      JSON.stringify(entry.details),
    ]);
  }

  /** Runs the trigger started that exist in the scheduler (for tests and `weft triggers fires`). */
  static newRunId(): string {
    return randomUUID();
  }

  async close(): Promise<void> {
    // The DataSource belongs to the caller.
  }
}

export async function openTriggerStore(config: DatabaseConfig, options: OpenMigratedOptions = {}): Promise<{ store: SqlTriggerStore; dataSource: DataSource; applied: string[] }> {
  const { dataSource, applied } = await openMigrated(config, { migrations: TRIGGERS_MIGRATIONS, migrationsTableName: TRIGGERS_MIGRATIONS_TABLE }, "the triggers service's schema", options);
  return { store: new SqlTriggerStore(dataSource), dataSource, applied };
}
