import { type RunState, type StepState, TERMINAL_RUN_STATUSES } from '@weft/core';
import { DEFAULT_NAMESPACE, storableText } from '@weft/contracts';
import { type DatabaseConfig, type PgliteDatabase, isDatabaseUnavailable, openMigrated, type WalkedRows, walkedStep, withTransaction } from '@weft/db';
import { type DataSource } from 'typeorm';
import {
  type CreateRunOptions,
  type DueScan,
  type EarlyCancelStore,
  type LeaseRef,
  type OutboxMessage,
  type OutboxRecord,
  type RunDecider,
  type RunFilter,
  type RunStore,
  type RunStoreStats,
  type TimerRecord,
  type Transition,
  type UpdateRunOptions,
} from '../ports/run-store.port';
import { PendingMarks } from './pending-marks';
import { RunBatchWriter } from './run-batch.writer';
import { assertCreatedIn, RunStoreError } from './run-store.errors';
import { type RunRow, type StepRow, isUntouched, millis, rowToRun, runToJson } from './run-state.mapper';
import { RunStateCache } from './run-state.cache';
import { RELAXED_COMMIT, RUN_COLUMNS, type Sql, insertRunSql, stepColumns } from './run-sql.util';
import { RunUpdateBatcher } from './run-update.batcher';
import { DbClock } from './db-clock';
import { createRunAlone, handOver, writeTransition } from './transition.writer';
import { SqlDueScan } from './due-scan.query';
import { SqlWaitStore } from './sql-wait.store';
import { SqlEarlyCancels } from './early-cancels.store';
import { writeWaitRows } from './wait-rows.writer';
import { SCHEDULER_MIGRATIONS, SCHEDULER_MIGRATIONS_TABLE } from './scheduler-schema';
import { storedWithEventBatches } from '../outbox/event-batches';

export interface SqlRunStoreOptions {
  /** Namespace of the runs this store creates (idempotency keys are unique per namespace). @default default */
  namespace?: string;
  /**
   * How long rows returned by `pendingOutbox`, and rows inserted claimed (`claimOutbox`),
   * belong to the caller (ms). Another relay skips them until then; a row not marked
   * published by then is handed out again.
   * @default 15000
   */
  outboxClaimMs?: number;
  /**
   * Runs whose last committed state this store keeps in memory (least recently used go
   * first). `updateRun` then reads only the run's `seq` under the lock and skips loading
   * the run and its steps when the seq is the one it committed. 0 turns it off.
   * Runs of 500 steps or more are counted apart, against `stateCacheLargeSteps`.
   * The cache grows past this when runs it dropped for room are changed again (more runs in
   * flight than it holds), up to `stateCacheMaxSize` (RunStateCache).
   * @default 1000
   */
  stateCacheSize?: number;
  /**
   * Small runs (under 500 steps) the state cache may grow to while more runs are in flight than
   * `stateCacheSize`; past `stateCacheSize` only while their steps total at most 250,000.
   * @default 20000 (at least `stateCacheSize`)
   */
  stateCacheMaxSize?: number;
  /** Steps of large runs (500 steps or more) the state cache keeps, together; a larger run is not cached. @default 250000 */
  stateCacheLargeSteps?: number;
  /**
   * How long a lone relaxed update of a run (a heartbeat) waits for more updates of the
   * same run before its transaction starts (ms). A short step's result usually follows its
   * started heartbeat within a millisecond or two: both then share one transaction. 0 turns it off.
   * @default 2
   */
  relaxedLingerMs?: number;
  /**
   * How long `markPublished` waits for a transition's transaction to carry its marks (ms):
   * while results keep coming (a chain's next one commits within a few ms of its dispatch's
   * PubAck, or tens of ms on a loaded machine) the mark then costs no commit of its own.
   * After it, the marks are written alone. 0 writes at once. Well below `outboxClaimMs`: an
   * unmarked row is claimed, so nobody else publishes it meanwhile.
   * @default 100
   */
  markLingerMs?: number;
  /**
   * A lone run whose state is cached is updated in one autocommit statement (one round trip
   * instead of BEGIN, lock, write, COMMIT), guarded by the cached seq, at the database's time
   * estimated from the store's last readings (never behind one of them, never backwards for a
   * run); when another writer moved the run on, nothing is written and the update is redone
   * under the lock. A group commit whose runs are all cached (no waits, spec and plan unchanged,
   * not a cancel) is likewise one statement (writeGroupAlone), the runs' rows locked in id order.
   * A new run is written in one statement after its key lookup (createRunAlone). Off: every
   * update and creation takes the transaction.
   * @default true
   */
  oneStatementUpdates?: boolean;
}

/**
 * RunStore on PostgreSQL or PGlite (the same SQL on both).
 *
 * - Database time (`clock_timestamp()`), never this process's clock.
 * - `updateRun` locks the run row (`SELECT ... FOR UPDATE`), so replicas serialise per
 *   run; on PGlite the single session already serialises everything.
 * - A transition is written in one transaction: the run row (checked against the seq
 *   it loaded), only the step rows whose state object changed, outbox rows and timers,
 *   all in one statement of data-modifying CTEs fed by jsonb arrays.
 *
 * `close()` waits for calls in flight; the DataSource belongs to the caller.
 */
export class SqlRunStore implements RunStore {
  private readonly namespace: string;
  private readonly outboxClaimMs: number;
  private readonly inFlight = new Set<Promise<unknown>>();
  private closed = false;
  /** Last committed states (RunStateCache), shared with the batch writer. */
  private readonly cache: RunStateCache;
  /** Queues updateRun calls per run and hands each batch to a RunBatchWriter. */
  private readonly batcher: RunUpdateBatcher;
  private readonly writer: RunBatchWriter;
  /** Signals, signal waits and reviews (their rows are written with transitions: writeWaitRows). */
  readonly waits: SqlWaitStore;
  readonly earlyCancels: EarlyCancelStore;
  /** Published marks waiting to ride in a transition's transaction (markLingerMs). */
  private readonly marks: PendingMarks | undefined;
  /** Due timers and lapsed leases for the timer scan. */
  private readonly due: SqlDueScan;
  /** The database's time, estimated from what this store's statements read (oneStatementUpdates). */
  private readonly clock = new DbClock();
  /** oneStatementUpdates: also a run's creation in one statement when the clock has a recent reading. */
  private readonly oneStatement: boolean;

  constructor(
    readonly dataSource: DataSource,
    options: SqlRunStoreOptions = {},
  ) {
    this.namespace = options.namespace ?? DEFAULT_NAMESPACE;
    this.oneStatement = options.oneStatementUpdates !== false;
    this.outboxClaimMs = options.outboxClaimMs ?? 15_000;
    this.cache = new RunStateCache(options.stateCacheSize ?? 1000, options.stateCacheLargeSteps, options.stateCacheMaxSize);
    const markLingerMs = options.markLingerMs ?? 100;
    this.marks = markLingerMs > 0 ? new PendingMarks(markLingerMs, (ids) => this.writeMarks(ids)) : undefined;
    this.writer = new RunBatchWriter(dataSource, this.cache, this.outboxClaimMs, this.marks, options.oneStatementUpdates === false ? undefined : this.clock);
    this.batcher = new RunUpdateBatcher(this.writer, options.relaxedLingerMs ?? 2);
    this.waits = new SqlWaitStore(dataSource);
    const early = new SqlEarlyCancels(dataSource);
    this.earlyCancels = { remember: (runId, reason) => this.track(() => early.remember(runId, reason)), take: (runId) => this.track(() => early.take(runId)) };
    this.due = new SqlDueScan(dataSource);
  }

  now(): Promise<number> {
    return this.track(async () => {
      const rows: { now: Date }[] = await this.dataSource.query('SELECT clock_timestamp() AS now');
      this.clock.observe(millis(rows[0].now));
      return millis(rows[0].now);
    });
  }

  createRun(idempotencyKey: string, buildRun: (now: number) => Transition, options: CreateRunOptions = {}): Promise<{ runId: string; created: boolean }> {
    const namespace = options.namespace ?? this.namespace;
    const build = (now: number) => storedWithEventBatches(buildRun(now));
    return this.track(async () => {
      // A repeated key is answered without building the run (the contract: build is not called).
      const existing = await this.runIdForKey(this.dataSource, namespace, idempotencyKey);
      if (existing !== undefined) return { runId: existing, created: false };
      const alone = this.oneStatement ? await this.createAlone(namespace, idempotencyKey, build, options) : undefined;
      if (alone !== undefined) return alone;
      let created: RunState | undefined;
      let createdAt: number | undefined;
      let rows: OutboxRecord[] = [];
      const claim = options.claimOutbox !== undefined;
      const result = await withTransaction(this.dataSource, async (tx) => {
        const nowRows: { now: Date }[] = await tx.query('SELECT clock_timestamp() AS now');
        createdAt = millis(nowRows[0].now);
        this.clock.observe(createdAt);
        const transition = build(createdAt);
        const { state } = transition;
        assertCreatedIn(state, namespace);
        const inserted: { id: string }[] = await tx.query(
          `${insertRunSql('$1::jsonb', '$2', '$3')}
           RETURNING id`,
          [JSON.stringify(runToJson(state)), namespace, idempotencyKey],
        );
        if (inserted.length === 0) {
          // A concurrent createRun with this key won (the insert waited for its commit), or the run id exists.
          return { runId: (await this.runIdForKey(tx, namespace, idempotencyKey)) ?? state.runId, created: false };
        }
        rows = await writeTransition(tx, state.runId, transition, stepsToCreate(state), undefined, { claimMs: this.outboxClaimMs, claimed: () => claim });
        if (transition.waits !== undefined) await writeWaitRows(tx, state, transition.waits);
        created = state;
        return { runId: state.runId, created: true };
      });
      if (created) {
        this.cache.remember(created, createdAt);
        handOver(rows, options.claimOutbox);
      }
      return result;
    });
  }

  /**
   * createRun, after the key lookup, in one autocommit statement (createRunAlone): two round trips
   * instead of six. The run is built at the database's
   * estimated time (DbClock: never ahead of the database's clock), and the statement inserts it
   * unless its key is taken, with its steps, outbox rows and timers. Undefined, having written
   * nothing, when the transaction must do it: no recent clock reading, a build that throws (the
   * transaction looks the key up first and may not build at all), a run with waits (rows of a
   * second statement), or a key taken by a run the statement's snapshot did not see.
   */
  private async createAlone(
    namespace: string,
    idempotencyKey: string,
    build: (now: number) => Transition,
    options: CreateRunOptions,
  ): Promise<{ runId: string; created: boolean } | undefined> {
    const createdAt = this.clock.now();
    if (createdAt === undefined) return undefined;
    let transition: Transition;
    try {
      transition = build(createdAt);
    } catch {
      return undefined;
    }
    const { state } = transition;
    if (transition.waits !== undefined) return undefined;
    assertCreatedIn(state, namespace);
    const claim = options.claimOutbox !== undefined;
    const written = await createRunAlone(
      this.dataSource,
      transition,
      stepsToCreate(state),
      { namespace, idempotencyKey },
      { claimMs: this.outboxClaimMs, claimed: () => claim },
    );
    if (!written.created) return written.existing === undefined ? undefined : { runId: written.existing, created: false };
    this.clock.observe(written.now);
    this.cache.remember(state, createdAt);
    handOver(written.rows, options.claimOutbox);
    return { runId: state.runId, created: true };
  }

  /**
   * Queued with the run's other calls in this process (RunUpdateBatcher), committed by RunBatchWriter.
   * A transition with many lifecycle events has them written as batch messages (storedWithEventBatches).
   */
  updateRun(runId: string, decide: RunDecider, options: UpdateRunOptions = {}): Promise<RunState | undefined> {
    const stored: RunDecider = (state, now) => {
      const transition = decide(state, now);
      return transition && storedWithEventBatches(transition);
    };
    return this.track(() => this.batcher.enqueue(runId, { decide: stored, relaxed: options.relaxed === true, claimOutbox: options.claimOutbox }));
  }

  getRun(runId: string): Promise<RunState | undefined> {
    return this.track(() =>
      // One snapshot for the run row and its steps.
      this.dataSource.transaction('REPEATABLE READ', async (tx) => {
        const runs: RunRow[] = await tx.query(`SELECT ${RUN_COLUMNS} FROM runs WHERE id = $1`, [runId]);
        if (runs.length === 0) return undefined;
        const steps: StepRow[] = await tx.query(`SELECT ${stepColumns('s')} FROM step_runs s WHERE s.run_id = $1`, [runId]);
        return rowToRun(runs[0], steps);
      }),
    );
  }

  listRuns(filter: RunFilter = {}): Promise<RunState[]> {
    return this.track(() =>
      this.dataSource.transaction('REPEATABLE READ', async (tx) => {
        const params: unknown[] = [];
        const where: string[] = [];
        if (filter.workflow) where.push(`workflow = $${params.push(filter.workflow)}`);
        if (filter.status) where.push(`status IN (SELECT jsonb_array_elements_text($${params.push(JSON.stringify(filter.status))}::jsonb))`);
        const limit = filter.limit === undefined ? '' : ` LIMIT $${params.push(filter.limit)}`;
        const runs: RunRow[] = await tx.query(
          `SELECT ${RUN_COLUMNS} FROM runs ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC${limit}`,
          params,
        );
        if (runs.length === 0) return [];
        const steps: StepRow[] = await tx.query(
          `SELECT ${stepColumns('s')} FROM step_runs s WHERE s.run_id IN (SELECT jsonb_array_elements_text($1::jsonb))`,
          [JSON.stringify(runs.map((run) => run.id))],
        );
        const byRun = new Map<string, StepRow[]>();
        for (const step of steps) byRun.set(step.run_id, [...(byRun.get(step.run_id) ?? []), step]);
        return runs.map((run) => rowToRun(run, byRun.get(run.id) ?? []));
      }),
    );
  }

  /**
   * Unpublished rows, oldest first, claimed for `outboxClaimMs`: concurrent relays get
   * disjoint rows (SKIP LOCKED, then the claim). Rows of one run come in commit order
   * because runs are serialised; across runs, order is by id.
   */
  pendingOutbox(limit: number): Promise<OutboxRecord[]> {
    return this.track(async () => {
      const rows: OutboxRow[] = await this.dataSource.query(
        `WITH picked AS (
           SELECT id FROM outbox
           WHERE published_at IS NULL AND quarantined_at IS NULL AND (claimed_until IS NULL OR claimed_until <= clock_timestamp())
           ORDER BY id LIMIT $1
           FOR UPDATE SKIP LOCKED
         ), claimed AS (
           UPDATE outbox o SET claimed_until = clock_timestamp() + $2::int * interval '1 millisecond'
           FROM picked WHERE o.id = picked.id
           RETURNING o.id, o.run_id, o.kind, o.subject, o.payload, o.msg_id, o.headers, o.created_at
         ), relaxed AS (${RELAXED_COMMIT})
         SELECT id::text AS id, run_id, kind, subject, payload, msg_id, headers, created_at FROM claimed, relaxed ORDER BY claimed.id`,
        [limit, this.outboxClaimMs],
      );
      return rows.map(rowToOutbox);
    });
  }

  markPublished(ids: readonly string[], options: { urgent?: boolean } = {}): Promise<void> {
    return this.track(() => {
      if (!this.marks) return this.writeMarks(ids);
      const marked = this.marks.add(ids);
      // Urgent: written now, with every mark still waiting for a ride.
      if (options.urgent) void this.marks.flush().catch(() => undefined);
      return marked;
    });
  }

  /** The marks on their own: one relaxed UPDATE (losing it only re-publishes rows JetStream then drops). */
  private async writeMarks(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.dataSource.query(
      `WITH relaxed AS (${RELAXED_COMMIT})
       UPDATE outbox SET published_at = clock_timestamp(), claimed_until = NULL FROM relaxed
       WHERE id = ANY(ARRAY(SELECT jsonb_array_elements_text($1::jsonb)::bigint)) AND published_at IS NULL`,
      [JSON.stringify(ids)],
    );
  }

  quarantineOutbox(rows: readonly { id: string; reason: string }[]): Promise<void> {
    return this.track(async () => {
      if (rows.length === 0) return;
      await this.dataSource.query(
        `UPDATE outbox o SET quarantined_at = clock_timestamp(), quarantine_reason = q.reason, claimed_until = NULL
         FROM (SELECT e->>'id' AS id, e->>'reason' AS reason FROM jsonb_array_elements($1::jsonb) AS e) AS q
         WHERE o.id = q.id::bigint AND o.published_at IS NULL AND o.quarantined_at IS NULL`,
        [JSON.stringify(rows.map((r) => ({ id: r.id, reason: storableText(r.reason).slice(0, 2_000) })))],
      );
    });
  }

  /**
   * Outbox retention, one step (OutboxRetentionUseCase): looks at the next `batch` rows after
   * `after` (an id; undefined starts at the oldest) and deletes those published more than
   * `retentionMs` ago (database time). `next` is where to go on, undefined once the step saw
   * the table's end or a row created inside the retention (every later row is newer: ids
   * follow creation). Unpublished and quarantined rows are never deleted.
   */
  prunePublishedOutbox(retentionMs: number, batch: number, after?: string): Promise<{ deleted: number; next: string | undefined }> {
    return this.track(async () => {
      const [row]: WalkedRows[] = await this.dataSource.query(
        `WITH cutoff AS (SELECT clock_timestamp() - $1::double precision * interval '1 millisecond' AS at),
         head AS (SELECT id, published_at, created_at FROM outbox WHERE id > $3::bigint ORDER BY id LIMIT $2),
         gone AS (DELETE FROM outbox o USING head h, cutoff c WHERE o.id = h.id AND h.published_at < c.at RETURNING 1)
         SELECT (SELECT count(*)::int FROM gone) AS deleted, (SELECT count(*)::int FROM head) AS seen, (SELECT max(id)::text FROM head) AS last,
                (SELECT bool_or(h.created_at >= c.at) FROM head h, cutoff c) AS reached`,
        [retentionMs, batch, after ?? '0'],
      );
      return walkedStep(row, batch);
    });
  }

  /** The timer scan's reads (SqlDueScan). */
  dueTimers(now: number, limit: number): Promise<TimerRecord[]> {
    return this.track(() => this.due.dueTimers(now, limit));
  }

  nextTimerAt(): Promise<number | undefined> {
    return this.track(() => this.due.nextTimerAt());
  }

  expiredLeases(now: number, limit: number): Promise<LeaseRef[]> {
    return this.track(() => this.due.expiredLeases(now, limit));
  }

  scanDue(limit: number): Promise<DueScan> {
    // Its `now` is a reading like any other: a timer it finds due is due at any later estimate.
    return this.track(async () => {
      const scan = await this.due.scanDue(limit);
      this.clock.observe(scan.now);
      return scan;
    });
  }

  /** Counters of updateRun's writes since the store was built (diagnostics, benchmarks): the batcher's writes, batches and calls, and how the writer wrote them. */
  writeStats(): Record<string, number> {
    return { ...this.batcher.stats, ...this.writer.stats };
  }

  /** One round trip; the partial outbox index and (status, created_at) index keep it cheap. */
  stats(): Promise<RunStoreStats> {
    return this.track(async () => {
      const rows: { active: Record<string, number>; oldest_run_ms: number | null; backlog: number; oldest_outbox_ms: number | null; quarantined: number }[] = await this.dataSource.query(
        `WITH live AS (SELECT status, created_at FROM runs WHERE status NOT IN (SELECT jsonb_array_elements_text($1::jsonb)))
         SELECT
           (SELECT coalesce(jsonb_object_agg(status, n), '{}'::jsonb) FROM (SELECT status, count(*)::int AS n FROM live GROUP BY status) AS s) AS active,
           (SELECT (extract(epoch FROM clock_timestamp() - min(created_at)) * 1000)::float8 FROM live) AS oldest_run_ms,
           (SELECT count(*)::int FROM outbox WHERE published_at IS NULL AND quarantined_at IS NULL) AS backlog,
           (SELECT (extract(epoch FROM clock_timestamp() - min(created_at)) * 1000)::float8 FROM outbox WHERE published_at IS NULL AND quarantined_at IS NULL) AS oldest_outbox_ms,
           (SELECT count(*)::int FROM outbox WHERE quarantined_at IS NOT NULL) AS quarantined`,
        [JSON.stringify(TERMINAL_RUN_STATUSES)],
      );
      const row = rows[0];
      const stats: RunStoreStats = { activeRuns: row.active, outboxBacklog: row.backlog };
      if (row.oldest_run_ms !== null) stats.oldestActiveRunAgeMs = Math.max(0, Math.round(row.oldest_run_ms));
      if (row.oldest_outbox_ms !== null) stats.oldestOutboxAgeMs = Math.max(0, Math.round(row.oldest_outbox_ms));
      if (row.quarantined > 0) stats.outboxQuarantined = row.quarantined;
      return stats;
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.marks?.flush().catch(() => undefined);
    await Promise.allSettled([...this.inFlight]);
  }

  private async runIdForKey(sql: Sql, namespace: string, idempotencyKey: string): Promise<string | undefined> {
    const rows: { id: string }[] = await sql.query('SELECT id FROM runs WHERE namespace = $1 AND idempotency_key = $2', [namespace, idempotencyKey]);
    return rows[0]?.id;
  }

  private track<T>(work: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new RunStoreError('STORE_CLOSED', 'the run store is closed'));
    const running = work().catch((error: unknown) => {
      // Callers hold messages through an outage instead of failing them: tell them apart.
      if (isDatabaseUnavailable(error)) throw new RunStoreError('STORE_UNAVAILABLE', `database unavailable: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      throw error;
    });
    this.inFlight.add(running);
    const forget = () => this.inFlight.delete(running);
    void running.then(forget, forget);
    return running;
  }
}

/**
 * Opens the data source, applies the migrations (or, with `migrate: false`, fails when
 * any is pending) and builds the store. `applied` names the migrations this call ran.
 * Close the store, then destroy the data source.
 */
export async function openSqlRunStore(
  config: DatabaseConfig,
  options: SqlRunStoreOptions & { migrate?: boolean; pglite?: PgliteDatabase } = {},
): Promise<{ store: SqlRunStore; dataSource: DataSource; applied: string[] }> {
  const { dataSource, applied } = await openMigrated(
    config,
    { migrations: SCHEDULER_MIGRATIONS, migrationsTableName: SCHEDULER_MIGRATIONS_TABLE },
    "the scheduler's schema",
    { ...(options.migrate !== undefined && { migrate: options.migrate }), ...(options.pglite && { pglite: options.pglite }) },
  );
  return { store: new SqlRunStore(dataSource, options), dataSource, applied };
}

interface OutboxRow {
  id: string;
  run_id: string;
  kind: OutboxMessage['kind'];
  subject: string;
  payload: unknown;
  msg_id: string;
  headers: Record<string, string> | null;
  created_at: Date;
}

/** The steps a new run's creation writes: untouched ones get no row (they read back as untouched), so not a row per step. */
function stepsToCreate(state: RunState): StepState[] {
  return Object.values(state.steps).filter((step) => !isUntouched(step));
}

function rowToOutbox(row: OutboxRow): OutboxRecord {
  const record: OutboxRecord = {
    id: row.id,
    runId: row.run_id,
    createdAt: millis(row.created_at),
    kind: row.kind,
    subject: row.subject,
    payload: row.payload,
    msgId: row.msg_id,
  };
  if (row.headers !== null) record.headers = row.headers;
  return record;
}
