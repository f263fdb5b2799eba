import { type RunState, type StepState, TERMINAL_RUN_STATUSES } from '@weft/core';
import { DEFAULT_NAMESPACE } from '@weft/contracts';
import {
  type DatabaseConfig,
  type PgliteDatabase,
  isDatabaseUnavailable,
  openMigrated,
  withTransaction,
} from '@weft/db';
import { type DataSource, type EntityManager } from 'typeorm';
import {
  type ClaimOutboxOption,
  type CreateRunOptions,
  type LeaseRef,
  type OutboxMessage,
  type OutboxRecord,
  type RunFilter,
  type RunStore,
  type RunStoreStats,
  type TimerKey,
  type TimerRecord,
  type Transition,
  timerKey,
  type UpdateRunOptions,
} from '../ports/run-store.port';
import { assertCreatedIn, RunStoreError } from './run-store.errors';
import { type RunRow, type StepRow, iso, millis, rowToRun, runToJson, stepToJson } from './run-state.mapper';
import { SCHEDULER_ENTITIES, SCHEDULER_MIGRATIONS, SCHEDULER_MIGRATIONS_TABLE } from './scheduler-schema';

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
   * @default 1000
   */
  stateCacheSize?: number;
  /**
   * How long a lone relaxed update of a run (a heartbeat) waits for more updates of the
   * same run before its transaction starts (ms). A short step's result usually follows its
   * started heartbeat within a millisecond or two: both then share one transaction. 0 turns it off.
   * @default 2
   */
  relaxedLingerMs?: number;
}

/**
 * A CTE that turns off `synchronous_commit` for its statement's own transaction: the
 * commit returns without waiting for the WAL flush. Only for writes a crash may lose
 * harmlessly: outbox claims and published marks (a lost one means the row is published
 * again, and the broker drops the repeat by its msgId), and `relaxed` updates (heartbeats).
 * Saves an fsync each.
 */
const RELAXED_COMMIT = "SELECT set_config('synchronous_commit', 'off', true)";

/** Anything that runs SQL: the data source, or a transaction's manager. */
type Sql = Pick<EntityManager, 'query'>;

const RUN_COLUMNS =
  'id, namespace, workflow, version, status, inputs, outputs, error, spec, plan, extra, seq, correlation_id, created_at, started_at, finished_at, deadline_at';
const stepColumns = (alias: string) =>
  ['run_id', 'step_id', 'status', 'attempt', 'token', 'queued_at', 'started_at', 'finished_at', 'lease_expires_at', 'next_attempt_at', 'output', 'error', 'attempts', 'extra']
    .map((column) => `${alias}.${column}`)
    .concat(`${alias}.output IS NOT NULL AS has_output`)
    .join(', ');

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
  /**
   * Last committed state of recently changed runs. Safe to reuse while the run row's seq
   * is unchanged: every write goes through writeTransition under the row lock, and a
   * changed state always comes with the next seq (the core's decide increments it).
   */
  private readonly states = new Map<string, RunState>();
  private readonly stateCacheSize: number;
  private readonly relaxedLingerMs: number;
  /** updateRun calls waiting for their run's batch, per run. */
  private readonly updates = new Map<string, QueuedUpdate[]>();

  constructor(
    readonly dataSource: DataSource,
    options: SqlRunStoreOptions = {},
  ) {
    this.namespace = options.namespace ?? DEFAULT_NAMESPACE;
    this.outboxClaimMs = options.outboxClaimMs ?? 15_000;
    this.stateCacheSize = options.stateCacheSize ?? 1000;
    this.relaxedLingerMs = options.relaxedLingerMs ?? 2;
  }

  now(): Promise<number> {
    return this.track(async () => {
      const rows: { now: Date }[] = await this.dataSource.query('SELECT clock_timestamp() AS now');
      return millis(rows[0].now);
    });
  }

  createRun(idempotencyKey: string, build: (now: number) => Transition, options: CreateRunOptions = {}): Promise<{ runId: string; created: boolean }> {
    const namespace = options.namespace ?? this.namespace;
    return this.track(async () => {
      const existing = await this.runIdForKey(this.dataSource, namespace, idempotencyKey);
      if (existing !== undefined) return { runId: existing, created: false };
      let created: RunState | undefined;
      let rows: OutboxRecord[] = [];
      const claim = options.claimOutbox !== undefined;
      const result = await withTransaction(this.dataSource, async (tx) => {
        const nowRows: { now: Date }[] = await tx.query('SELECT clock_timestamp() AS now');
        const transition = build(millis(nowRows[0].now));
        const { state } = transition;
        assertCreatedIn(state, namespace);
        const inserted: { id: string }[] = await tx.query(
          `INSERT INTO runs (id, namespace, workflow, version, status, inputs, outputs, error, spec, plan, extra, seq,
                             idempotency_key, correlation_id, created_at, started_at, finished_at, deadline_at)
           SELECT e->>'id', $2, e->>'workflow', e->>'version', e->>'status', e->'inputs', e->'outputs', e->'error', e->'spec',
                  e->'plan', e->'extra', (e->>'seq')::int, $3, e->>'correlation_id', (e->>'created_at')::timestamptz,
                  (e->>'started_at')::timestamptz, (e->>'finished_at')::timestamptz, (e->>'deadline_at')::timestamptz
           FROM (SELECT $1::jsonb AS e) AS input
           ON CONFLICT DO NOTHING
           RETURNING id`,
          [JSON.stringify(runToJson(state)), namespace, idempotencyKey],
        );
        if (inserted.length === 0) {
          // A concurrent createRun with this key won (the insert waited for its commit), or the run id exists.
          return { runId: (await this.runIdForKey(tx, namespace, idempotencyKey)) ?? state.runId, created: false };
        }
        rows = await this.writeTransition(tx, state.runId, transition, Object.values(state.steps), undefined, () => claim);
        created = state;
        return { runId: state.runId, created: true };
      });
      if (created) {
        this.remember(created);
        handOver(rows, options.claimOutbox);
      }
      return result;
    });
  }

  updateRun(runId: string, decide: (state: RunState, now: number) => Transition | undefined, options: UpdateRunOptions = {}): Promise<RunState | undefined> {
    return this.track(
      () =>
        new Promise<RunState | undefined>((resolve, reject) => {
          const call: QueuedUpdate = { decide, resolve, reject, relaxed: options.relaxed === true, claimOutbox: options.claimOutbox };
          const queue = this.updates.get(runId);
          if (queue) {
            queue.push(call);
            return;
          }
          this.updates.set(runId, [call]);
          void this.drainUpdates(runId);
        }),
    );
  }

  /**
   * Calls for one run are queued in this process and applied in batches: one transaction
   * (lock, decide each in turn, one merged write, commit) for everything that arrived while
   * the previous batch was in the database. Replicas still serialise on the row lock.
   */
  private async drainUpdates(runId: string): Promise<void> {
    for (;;) {
      const queue = this.updates.get(runId);
      if (!queue || queue.length === 0) {
        this.updates.delete(runId);
        return;
      }
      if (queue.length === 1 && queue[0].relaxed && this.relaxedLingerMs > 0) {
        // A lone heartbeat waits a moment for the result that often follows it.
        await new Promise((resolve) => setTimeout(resolve, this.relaxedLingerMs));
      }
      await this.applyUpdates(runId, queue.splice(0, MAX_UPDATES_PER_TRANSACTION));
    }
  }

  /** One transaction for a batch; settles every call (a throwing decide fails only its own call). */
  private async applyUpdates(runId: string, calls: readonly QueuedUpdate[]): Promise<void> {
    const outcomes: ({ state: RunState | undefined } | { error: unknown })[] = [];
    /** The outbox rows each call inserted (claimed or not), by call index. */
    const written = new Map<number, OutboxRecord[]>();
    let committed: RunState | undefined;
    try {
      // A batch of relaxed changes only (heartbeats) commits without waiting for the WAL flush.
      const relaxed = calls.every((call) => call.relaxed);
      await withTransaction(this.dataSource, async (tx) => {
        outcomes.length = 0;
        written.clear();
        const head = this.states.has(runId) ? await this.lockCached(tx, runId, relaxed) : undefined;
        let loaded: RunState;
        let now: number;
        if (head !== undefined) {
          if (head === null) return calls.forEach(() => outcomes.push({ state: undefined }));
          now = head.now;
          const state = head.state ?? (await this.loadRun(tx, runId, false))?.state;
          if (state === undefined) return calls.forEach(() => outcomes.push({ state: undefined }));
          loaded = state;
        } else {
          const fresh = await this.loadRun(tx, runId, true, relaxed);
          if (fresh === undefined) return calls.forEach(() => outcomes.push({ state: undefined }));
          ({ state: loaded, now } = fresh);
        }
        let current = loaded;
        const transitions: Transition[] = [];
        /** Per outbox message of the merged write, the index of the call it belongs to. */
        const owners: number[] = [];
        for (const [index, call] of calls.entries()) {
          let transition: Transition | undefined;
          try {
            transition = call.decide(current, now);
          } catch (error) {
            outcomes.push({ error });
            continue;
          }
          if (transition) {
            transitions.push(transition);
            for (let i = 0; i < transition.outbox.length; i++) owners.push(index);
            current = transition.state;
          }
          outcomes.push({ state: current });
        }
        committed = current;
        if (transitions.length === 0) return;
        // The core returns new objects for the steps it changed and the same objects for the rest.
        const changed = Object.entries(current.steps)
          .filter(([id, step]) => loaded.steps[id] !== step)
          .map(([, step]) => step);
        const rows = await this.writeTransition(tx, runId, mergeTransitions(current, transitions), changed, loaded, (i) => calls[owners[i]].claimOutbox !== undefined);
        rows.forEach((row, i) => {
          const mine = written.get(owners[i]);
          if (mine) mine.push(row);
          else written.set(owners[i], [row]);
        });
      });
    } catch (error) {
      this.states.delete(runId);
      for (const call of calls) call.reject(error);
      return;
    }
    if (committed) this.remember(committed);
    // Committed: rows inserted claimed go to their callers (in commit order), then the calls resolve.
    calls.forEach((call, i) => handOver(written.get(i) ?? [], call.claimOutbox));
    calls.forEach((call, i) => {
      const outcome = outcomes[i];
      if (outcome === undefined) call.resolve(undefined);
      else if ('error' in outcome) call.reject(outcome.error);
      else call.resolve(outcome.state);
    });
  }

  /**
   * Locks a run this store has in memory and reads its seq and the time: `state` is the
   * cached state when the seq still matches, undefined when it must be loaded; null
   * when the run is gone.
   */
  private async lockCached(tx: Sql, runId: string, relaxed: boolean): Promise<{ now: number; state: RunState | undefined } | null> {
    const rows: { seq: number; now: Date }[] = await tx.query(
      `SELECT seq, clock_timestamp() AS now${relaxed ? `, (${RELAXED_COMMIT}) AS relaxed` : ''} FROM runs WHERE id = $1 FOR UPDATE`,
      [runId],
    );
    if (rows.length === 0) {
      this.states.delete(runId);
      return null;
    }
    // Read after the lock: another call of this process may have moved the run on meanwhile.
    const cached = this.states.get(runId);
    return { now: millis(rows[0].now), state: cached !== undefined && cached.seq === rows[0].seq ? cached : undefined };
  }

  /** The run and its steps; with `lock`, the run row is locked first and the time read after it. */
  private async loadRun(tx: Sql, runId: string, lock: boolean, relaxed = false): Promise<{ state: RunState; now: number } | undefined> {
    const runs: RunRow[] = await tx.query(
      `SELECT ${RUN_COLUMNS}${relaxed ? `, (${RELAXED_COMMIT}) AS relaxed` : ''} FROM runs WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
      [runId],
    );
    if (runs.length === 0) return undefined;
    // Time is read after the lock is granted, so it never runs backwards for a run.
    const rows: (StepRow & { now: Date })[] = await tx.query(
      `SELECT clock_timestamp() AS now, ${stepColumns('s')} FROM (SELECT 1) AS one LEFT JOIN step_runs s ON s.run_id = $1`,
      [runId],
    );
    return {
      state: rowToRun(
        runs[0],
        rows.filter((row) => row.step_id !== null),
      ),
      now: millis(rows[0].now),
    };
  }

  /** Keeps a committed state (most recent last); finished runs are not kept. */
  private remember(state: RunState): void {
    this.states.delete(state.runId);
    if (this.stateCacheSize <= 0 || TERMINAL_RUN_STATUSES.includes(state.status)) return;
    this.states.set(state.runId, state);
    if (this.states.size > this.stateCacheSize) {
      const oldest = this.states.keys().next();
      if (!oldest.done) this.states.delete(oldest.value);
    }
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
           WHERE published_at IS NULL AND (claimed_until IS NULL OR claimed_until <= clock_timestamp())
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

  markPublished(ids: readonly string[]): Promise<void> {
    return this.track(async () => {
      if (ids.length === 0) return;
      await this.dataSource.query(
        `WITH relaxed AS (${RELAXED_COMMIT})
         UPDATE outbox SET published_at = clock_timestamp(), claimed_until = NULL FROM relaxed
         WHERE id IN (SELECT jsonb_array_elements_text($1::jsonb)::bigint) AND published_at IS NULL`,
        [JSON.stringify(ids)],
      );
    });
  }

  /** Deletes up to `limit` rows published before `before` (epoch ms); resolves with how many. Outbox retention. */
  prunePublishedOutbox(before: number, limit = 10_000): Promise<number> {
    return this.track(async () => {
      const rows: { n: number }[] = await this.dataSource.query(
        `WITH gone AS (
           DELETE FROM outbox WHERE id IN (
             SELECT id FROM outbox WHERE published_at IS NOT NULL AND published_at < $1::timestamptz ORDER BY id LIMIT $2)
           RETURNING 1)
         SELECT count(*)::int AS n FROM gone`,
        [iso(before), limit],
      );
      return rows[0].n;
    });
  }

  dueTimers(now: number, limit: number): Promise<TimerRecord[]> {
    return this.track(async () => {
      const rows: TimerRow[] = await this.dataSource.query(
        `SELECT run_id, timer, step_id, attempt, fire_at FROM timers
         WHERE fire_at <= $1::timestamptz ORDER BY fire_at, run_id, timer, step_id LIMIT $2`,
        [iso(now), limit],
      );
      return rows.map(rowToTimer);
    });
  }

  nextTimerAt(): Promise<number | undefined> {
    return this.track(async () => {
      const rows: { at: Date | null }[] = await this.dataSource.query('SELECT min(fire_at) AS at FROM timers');
      const at = rows[0].at;
      return at === null ? undefined : millis(at);
    });
  }

  expiredLeases(now: number, limit: number): Promise<LeaseRef[]> {
    return this.track(async () => {
      const rows: { run_id: string; step_id: string; attempt: number }[] = await this.dataSource.query(
        `SELECT s.run_id, s.step_id, s.attempt FROM step_runs s JOIN runs r ON r.id = s.run_id
         WHERE s.status IN ('queued', 'running') AND s.lease_expires_at <= $1::timestamptz
           AND r.status NOT IN (SELECT jsonb_array_elements_text($3::jsonb))
         ORDER BY s.lease_expires_at, s.run_id, s.step_id LIMIT $2`,
        [iso(now), limit, JSON.stringify(TERMINAL_RUN_STATUSES)],
      );
      return rows.map((row) => ({ runId: row.run_id, stepId: row.step_id, attempt: row.attempt }));
    });
  }

  /** One round trip; the partial outbox index and (status, created_at) index keep it cheap. */
  stats(): Promise<RunStoreStats> {
    return this.track(async () => {
      const rows: { active: Record<string, number>; oldest_run_ms: number | null; backlog: number; oldest_outbox_ms: number | null }[] = await this.dataSource.query(
        `WITH live AS (SELECT status, created_at FROM runs WHERE status NOT IN (SELECT jsonb_array_elements_text($1::jsonb)))
         SELECT
           (SELECT coalesce(jsonb_object_agg(status, n), '{}'::jsonb) FROM (SELECT status, count(*)::int AS n FROM live GROUP BY status) AS s) AS active,
           (SELECT (extract(epoch FROM clock_timestamp() - min(created_at)) * 1000)::float8 FROM live) AS oldest_run_ms,
           (SELECT count(*)::int FROM outbox WHERE published_at IS NULL) AS backlog,
           (SELECT (extract(epoch FROM clock_timestamp() - min(created_at)) * 1000)::float8 FROM outbox WHERE published_at IS NULL) AS oldest_outbox_ms`,
        [JSON.stringify(TERMINAL_RUN_STATUSES)],
      );
      const row = rows[0];
      const stats: RunStoreStats = { activeRuns: row.active, outboxBacklog: row.backlog };
      if (row.oldest_run_ms !== null) stats.oldestActiveRunAgeMs = Math.max(0, Math.round(row.oldest_run_ms));
      if (row.oldest_outbox_ms !== null) stats.oldestOutboxAgeMs = Math.max(0, Math.round(row.oldest_outbox_ms));
      return stats;
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.inFlight]);
  }

  private async runIdForKey(sql: Sql, namespace: string, idempotencyKey: string): Promise<string | undefined> {
    const rows: { id: string }[] = await sql.query('SELECT id FROM runs WHERE namespace = $1 AND idempotency_key = $2', [namespace, idempotencyKey]);
    return rows[0]?.id;
  }

  /**
   * Everything a transition changes, in one statement. With `loaded`, the run row is
   * updated (guarded by the seq it had); without, it was just inserted. Outbox message
   * `i` is inserted claimed for `outboxClaimMs` when `claimed(i)`. Resolves with the
   * outbox rows inserted, in outbox order.
   */
  private async writeTransition(
    tx: Sql,
    runId: string,
    transition: Transition,
    steps: readonly StepState[],
    loaded: RunState | undefined,
    claimed: (index: number) => boolean = () => false,
  ): Promise<OutboxRecord[]> {
    const { state } = transition;
    const params: unknown[] = [];
    const param = (value: unknown) => `$${params.push(value)}`;
    const json = (value: unknown) => `${param(JSON.stringify(value))}::jsonb`;
    const parts: string[] = [];

    if (loaded) {
      // spec and plan never change in practice; rewriting them would re-TOAST large values on every event.
      const heavy = [state.spec !== loaded.spec ? `spec = e->'spec'` : '', state.plan !== loaded.plan ? `plan = e->'plan'` : ''].filter(Boolean);
      parts.push(`run_write AS (
        UPDATE runs SET workflow = e->>'workflow', version = e->>'version', status = e->>'status', inputs = e->'inputs',
          outputs = e->'outputs', error = e->'error', extra = e->'extra', seq = (e->>'seq')::int, correlation_id = e->>'correlation_id',
          created_at = (e->>'created_at')::timestamptz, started_at = (e->>'started_at')::timestamptz,
          finished_at = (e->>'finished_at')::timestamptz, deadline_at = (e->>'deadline_at')::timestamptz,
          ${heavy.map((set) => `${set}, `).join('')}updated_at = clock_timestamp()
        FROM (SELECT ${json(runToJson(state))} AS e) AS input
        WHERE runs.id = ${param(runId)} AND runs.seq = ${param(loaded.seq)}
        RETURNING 1)`);
    }
    if (steps.length > 0) {
      parts.push(`step_write AS (
        INSERT INTO step_runs (run_id, step_id, status, attempt, token, queued_at, started_at, finished_at, lease_expires_at,
                               next_attempt_at, output, error, attempts, extra, updated_at)
        SELECT e->>'run_id', e->>'step_id', e->>'status', (e->>'attempt')::int, e->>'token', (e->>'queued_at')::timestamptz,
               (e->>'started_at')::timestamptz, (e->>'finished_at')::timestamptz, (e->>'lease_expires_at')::timestamptz,
               (e->>'next_attempt_at')::timestamptz, e->'output', e->'error', e->'attempts', e->'extra', clock_timestamp()
        FROM jsonb_array_elements(${json(steps.map((step) => stepToJson(runId, step)))}) AS e
        ON CONFLICT (run_id, step_id) DO UPDATE SET status = excluded.status, attempt = excluded.attempt, token = excluded.token,
          queued_at = excluded.queued_at, started_at = excluded.started_at, finished_at = excluded.finished_at,
          lease_expires_at = excluded.lease_expires_at, next_attempt_at = excluded.next_attempt_at, output = excluded.output,
          error = excluded.error, attempts = excluded.attempts, extra = excluded.extra, updated_at = excluded.updated_at
        RETURNING 1)`);
    }
    if (transition.outbox.length > 0) {
      // Ids come from the sequence in insertion order (ORDER BY m.n): sorted ids match the messages.
      parts.push(`outbox_write AS (
        INSERT INTO outbox (run_id, kind, subject, payload, msg_id, headers, claimed_until)
        SELECT ${param(runId)}, m.e->>'kind', m.e->>'subject', coalesce(m.e->'payload', 'null'::jsonb), m.e->>'msgId', m.e->'headers',
               CASE WHEN (m.e->>'claim')::boolean THEN clock_timestamp() + ${param(this.outboxClaimMs)}::int * interval '1 millisecond' END
        FROM jsonb_array_elements(${json(transition.outbox.map((message, i) => ({ ...outboxToJson(message), claim: claimed(i) })))}) WITH ORDINALITY AS m(e, n)
        ORDER BY m.n
        RETURNING id, created_at)`);
    }
    // A key both canceled and scheduled ends scheduled (cancel first, then schedule), as one statement cannot touch a row twice.
    const schedule = [...new Map(transition.schedule.map((timer) => [timerKey(timer), timer])).values()];
    const scheduled = new Set(schedule.map(timerKey));
    const cancel = [...new Map(transition.cancel.filter((key) => !scheduled.has(timerKey(key))).map((key) => [timerKey(key), key])).values()];
    if (cancel.length > 0) {
      parts.push(`timer_cancel AS (
        DELETE FROM timers t USING jsonb_array_elements(${json(cancel.map(timerKeyToJson))}) AS e
        WHERE t.run_id = e->>'runId' AND t.timer = e->>'timer' AND t.step_id = e->>'stepId'
        RETURNING 1)`);
    }
    if (schedule.length > 0) {
      parts.push(`timer_write AS (
        INSERT INTO timers (run_id, timer, step_id, attempt, fire_at)
        SELECT e->>'runId', e->>'timer', e->>'stepId', (e->>'attempt')::int, (e->>'fireAt')::timestamptz
        FROM jsonb_array_elements(${json(schedule.map((timer) => ({ ...timerKeyToJson(timer), attempt: timer.attempt, fireAt: iso(timer.fireAt) })))}) AS e
        ON CONFLICT (run_id, timer, step_id) DO UPDATE SET attempt = excluded.attempt, fire_at = excluded.fire_at
        RETURNING 1)`);
    }
    if (parts.length === 0) return [];
    const outbox = transition.outbox.length > 0;
    const rows: { runs: number; outbox_ids?: string[]; outbox_at?: Date }[] = await tx.query(
      `WITH ${parts.join(',\n')}
       SELECT ${loaded ? '(SELECT count(*) FROM run_write)::int' : '1'} AS runs${
         outbox ? `, (SELECT jsonb_agg(id::text ORDER BY id) FROM outbox_write) AS outbox_ids, (SELECT min(created_at) FROM outbox_write) AS outbox_at` : ''
       }`,
      params,
    );
    if (rows[0].runs !== 1) {
      throw new RunStoreError('RUN_SEQ_CONFLICT', `run ${runId} changed outside updateRun (expected seq ${loaded?.seq ?? '?'})`);
    }
    const ids = rows[0].outbox_ids ?? [];
    if (ids.length !== transition.outbox.length) throw new Error(`outbox insert returned ${ids.length} ids for ${transition.outbox.length} messages`);
    if (ids.length === 0) return [];
    // created_at defaults to the transaction's start: one value for every row of the statement.
    const createdAt = millis(rows[0].outbox_at as Date);
    return transition.outbox.map((message, i) => {
      const record: OutboxRecord = { id: ids[i], runId, createdAt, kind: message.kind, subject: message.subject, payload: message.payload ?? null, msgId: message.msgId };
      if (message.headers !== undefined) record.headers = message.headers;
      return record;
    });
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
    { entities: SCHEDULER_ENTITIES, migrations: SCHEDULER_MIGRATIONS, migrationsTableName: SCHEDULER_MIGRATIONS_TABLE },
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

interface TimerRow {
  run_id: string;
  timer: TimerRecord['timer'];
  step_id: string;
  attempt: number | null;
  fire_at: Date;
}

const outboxToJson = (message: OutboxMessage) => ({
  kind: message.kind,
  subject: message.subject,
  payload: message.payload,
  msgId: message.msgId,
  headers: message.headers,
});

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

interface QueuedUpdate {
  decide: (state: RunState, now: number) => Transition | undefined;
  relaxed: boolean;
  claimOutbox: ClaimOutboxOption['claimOutbox'];
  resolve: (state: RunState | undefined) => void;
  reject: (error: unknown) => void;
}

/** Rows inserted claimed go to the caller; a throwing callback cannot undo the commit (the rows go out through the relay). */
function handOver(rows: readonly OutboxRecord[], claimOutbox: ClaimOutboxOption['claimOutbox']): void {
  if (rows.length === 0 || claimOutbox === undefined) return;
  try {
    claimOutbox(rows);
  } catch {
    // The rows stay claimed; pendingOutbox hands them out once the claim lapses.
  }
}

/** Bounds one transaction's size; the rest of the queue goes in the next one. */
const MAX_UPDATES_PER_TRANSACTION = 128;

/**
 * Several transitions of one run as one write: the last state, every outbox message in
 * order, and per timer key the last thing done to it (within a transition, as in
 * writeTransition, cancels come before schedules).
 */
function mergeTransitions(state: RunState, transitions: readonly Transition[]): Transition {
  if (transitions.length === 1) return transitions[0];
  const timers = new Map<string, { schedule: TimerRecord } | { cancel: TimerKey }>();
  for (const t of transitions) {
    for (const key of t.cancel) timers.set(timerKey(key), { cancel: key });
    for (const timer of t.schedule) timers.set(timerKey(timer), { schedule: timer });
  }
  const schedule: TimerRecord[] = [];
  const cancel: TimerKey[] = [];
  for (const op of timers.values()) {
    if ('schedule' in op) schedule.push(op.schedule);
    else cancel.push(op.cancel);
  }
  return { state, outbox: transitions.flatMap((t) => t.outbox), schedule, cancel };
}

const timerKeyToJson = (key: TimerKey) => ({ runId: key.runId, timer: key.timer, stepId: key.stepId });

function rowToTimer(row: TimerRow): TimerRecord {
  const timer: TimerRecord = { runId: row.run_id, timer: row.timer, stepId: row.step_id, fireAt: millis(row.fire_at) };
  if (row.attempt !== null) timer.attempt = row.attempt;
  return timer;
}
