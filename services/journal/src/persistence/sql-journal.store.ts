import { type DatabaseConfig, InFlight, type OpenMigratedOptions, databaseNow, openMigrated, pruneBatch, withTransaction } from '@weft/db';
import type { DataSource, EntityManager } from 'typeorm';
import type { NewJournalEntry } from '../domain/journal-entry.util';
import { JournalError } from '../domain/journal.errors';
import type { Checkpoint, EventPage, EventQuery, JournalEntry } from '../domain/journal.types';
import type { JournalStore } from '../ports/journal-store.port';
import { type WriteBatcherOptions, WriteBatcher } from './write-batcher';
import { type CheckpointRow, type EntryRow, entryParams, formatCursor, iso, millis, parseCursor, rowToCheckpoint, rowToEntry } from './journal-rows.util';
import { JOURNAL_MIGRATIONS, JOURNAL_MIGRATIONS_TABLE } from './journal-schema';

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

type Sql = Pick<EntityManager, 'query'>;

const ENTRY_COLUMNS =
  'id::text AS id, event_id, run_id, workflow, version, step_id, attempt, type, status, at, seq, idx, duration_ms, error, correlation_id, trace_id, data';
const CHECKPOINT_COLUMNS = 'run_id, step_id, workflow, version, attempt, event_id, at, output, state';
/**
 * Page order: time, the scheduler's decision sequence, the event's index in it, arrival (unique, for the cursor).
 * The id is qualified because the select list's `id` is text, and ORDER BY would sort that alias as text.
 */
const ORDER = 'at, seq, idx, journal_entries.id';

const ENTRY_INSERT_COLUMNS =
  'event_id, run_id, workflow, version, step_id, attempt, type, status, at, seq, idx, duration_ms, error, correlation_id, trace_id, data, namespace';
/** The placeholders of one row of ENTRY_INSERT_COLUMNS whose parameters start after `at` others. */
const ENTRY_PLACEHOLDERS: ((at: number) => string)[] = Array.from({ length: 17 }, (_, i) => {
  const cast = i === 8 ? '::timestamptz' : i === 12 || i === 15 ? '::jsonb' : '';
  return (at: number) => `$${at + i + 1}${cast}`;
});

const CHECKPOINT_PLACEHOLDERS: ((at: number) => string)[] = Array.from({ length: 12 }, (_, i) => {
  const cast = i === 6 ? '::timestamptz' : i === 9 || i === 10 ? '::jsonb' : '';
  return (at: number) => `$${at + i + 1}${cast}`;
});

/** Where a checkpoint sits in its run: time, decision sequence, index, event id (bytewise, as `COLLATE "C"`). */
interface CheckpointPosition {
  at: Date | string;
  seq: number;
  idx: number;
  event_id: string;
}

function comparePositions(a: CheckpointPosition, b: CheckpointPosition): number {
  return millis(a.at) - millis(b.at) || a.seq - b.seq || a.idx - b.idx || Buffer.compare(Buffer.from(a.event_id), Buffer.from(b.event_id));
}

export interface SqlJournalStoreOptions {
  /**
   * Records arriving together are written in one transaction: up to `maxItems` of them,
   * the first waiting at most `lingerMs` for the others. `{ maxItems: 1 }` writes each alone.
   */
  batch?: WriteBatcherOptions;
}

/**
 * JournalStore on PostgreSQL or PGlite (the same SQL on both).
 *
 * - An entry is inserted `ON CONFLICT (event_id) DO NOTHING`: a redelivered event,
 *   or the same event published twice under other message ids, is journaled once.
 * - Records arriving within a couple of ms of each other share one transaction and one
 *   multi-row insert (see `writeBatch`); each caller still learns whether its own entry
 *   was recorded, and a batch that fails is retried one record at a time.
 * - A step.completed entry and its checkpoint commit together. Checkpoints of one
 *   run are written under a per-run advisory lock, so each sees the others: its
 *   state folds the outputs of earlier checkpoints, and its own output is merged
 *   into later ones (events of a run may arrive out of order; see `writeCheckpoints`).
 *
 * `close()` waits for calls in flight; the DataSource belongs to the caller.
 */
export class SqlJournalStore implements JournalStore {
  private readonly inFlight = new InFlight(() => new JournalError('STORE_CLOSED', 'the journal store is closed'));

  private readonly batcher: WriteBatcher<NewJournalEntry, { recorded: boolean }>;

  constructor(
    readonly dataSource: DataSource,
    options: SqlJournalStoreOptions = {},
  ) {
    this.batcher = new WriteBatcher((items) => this.writeBatch(items), options.batch);
  }

  record(entry: NewJournalEntry): Promise<{ recorded: boolean }> {
    return this.track(() => this.batcher.add(entry));
  }

  /**
   * One transaction for the whole batch: the advisory locks of the runs with a completion
   * (in lock-key order), one multi-row insert (rows in event id order), then the checkpoints.
   * Concurrent batches take their locks and row locks in the same order, so they cannot
   * deadlock. If the transaction fails, every member is recorded on its own: a poison event
   * fails alone (and is dead-lettered by the consumer), the others commit.
   */
  private async writeBatch(items: readonly NewJournalEntry[]): Promise<PromiseSettledResult<{ recorded: boolean }>[]> {
    if (items.length === 1) return Promise.allSettled(items.map((item) => this.recordOne(item)));
    try {
      const recorded = await this.recordMany(items);
      return items.map((item) => ({ status: 'fulfilled', value: { recorded: recorded.has(item) } }));
    } catch {
      return Promise.allSettled(items.map((item) => this.recordOne(item)));
    }
  }

  /** Returns the items whose entry this transaction inserted (of duplicate ids in the batch, the first). */
  private recordMany(items: readonly NewJournalEntry[]): Promise<Set<NewJournalEntry>> {
    const firsts = new Map<string, NewJournalEntry>();
    for (const item of items) if (!firsts.has(item.entry.eventId)) firsts.set(item.entry.eventId, item);
    const rows = [...firsts.values()].sort((a, b) => (a.entry.eventId < b.entry.eventId ? -1 : a.entry.eventId > b.entry.eventId ? 1 : 0));
    return withTransaction(this.dataSource, async (tx) => {
      const locks = [...new Set(rows.filter(hasCheckpoint).map((item) => checkpointLock(item.entry.runId)))];
      if (locks.length > 0) {
        // Volatile functions in the select list run after the sort: the locks are taken in key order.
        await tx.query(
          `SELECT pg_advisory_xact_lock(key) FROM (SELECT DISTINCT hashtext(name) AS key FROM jsonb_array_elements_text($1::jsonb) AS name) AS keys ORDER BY key`,
          [JSON.stringify(locks)],
        );
      }
      const params: unknown[] = [];
      const values = rows.map(({ entry, namespace }) => {
        const at = params.length;
        params.push(...entryParams(entry, namespace));
        return `(${ENTRY_PLACEHOLDERS.map((placeholder) => placeholder(at)).join(', ')})`;
      });
      const inserted: { event_id: string }[] = await tx.query(
        `INSERT INTO journal_entries (${ENTRY_INSERT_COLUMNS}) VALUES ${values.join(', ')}
         ON CONFLICT (event_id) DO NOTHING
         RETURNING event_id`,
        params,
      );
      const insertedIds = new Set(inserted.map((row) => row.event_id));
      const recorded = new Set(rows.filter((item) => insertedIds.has(item.entry.eventId)));
      const completions = rows.filter((item) => recorded.has(item) && hasCheckpoint(item));
      if (completions.length > 0) await this.writeCheckpoints(tx, completions);
      return recorded;
    });
  }

  /** One entry in its own transaction (a batch of one, and a failed batch's members). */
  private recordOne(item: NewJournalEntry): Promise<{ recorded: boolean }> {
    const { entry, namespace } = item;
    return withTransaction(this.dataSource, async (tx) => {
      const checkpoint = hasCheckpoint(item);
      if (checkpoint) await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [checkpointLock(entry.runId)]);
      const inserted: { event_id: string }[] = await tx.query(
        `INSERT INTO journal_entries (${ENTRY_INSERT_COLUMNS})
         VALUES (${ENTRY_PLACEHOLDERS.map((placeholder) => placeholder(0)).join(', ')})
         ON CONFLICT (event_id) DO NOTHING
         RETURNING event_id`,
        entryParams(entry, namespace),
      );
      if (inserted.length === 0) return { recorded: false };
      if (checkpoint) await this.writeCheckpoints(tx, [item]);
      return { recorded: true };
    });
  }

  runEvents(runId: string, namespace?: string): Promise<JournalEntry[]> {
    return this.track(async () => (await this.rowsOfRun<EntryRow>(ENTRY_COLUMNS, 'journal_entries', runId, namespace)).map(rowToEntry));
  }

  findEvents(query: EventQuery): Promise<EventPage> {
    return this.track(async () => {
      const limit = query.limit ?? DEFAULT_PAGE_SIZE;
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) throw new JournalError('INVALID_QUERY', `limit must be an integer from 1 to ${MAX_PAGE_SIZE}`);
      const params: unknown[] = [];
      const param = (value: unknown) => `$${params.push(value)}`;
      const where: string[] = [];
      if (query.namespace !== undefined) where.push(`namespace = ${param(query.namespace)}`);
      if (query.runId !== undefined) where.push(`run_id = ${param(query.runId)}`);
      if (query.workflow !== undefined) where.push(`workflow = ${param(query.workflow)}`);
      if (query.types !== undefined && query.types.length > 0) where.push(`type IN (SELECT jsonb_array_elements_text(${param(JSON.stringify(query.types))}::jsonb))`);
      if (query.since !== undefined) where.push(`at >= ${param(iso(query.since))}::timestamptz`);
      if (query.until !== undefined) where.push(`at < ${param(iso(query.until))}::timestamptz`);
      if (query.after !== undefined) {
        const cursor = parseCursor(query.after);
        where.push(`(at, seq, idx, id) > (${param(iso(cursor.at))}::timestamptz, ${param(cursor.seq)}::int, ${param(cursor.index)}::int, ${param(cursor.id)}::bigint)`);
      }
      const rows: EntryRow[] = await this.dataSource.query(
        `SELECT ${ENTRY_COLUMNS} FROM journal_entries ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${ORDER} LIMIT ${param(limit + 1)}`,
        params,
      );
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map(rowToEntry),
        nextCursor: rows.length > limit && last ? formatCursor({ at: millis(last.at), seq: last.seq, index: last.idx, id: last.id }) : null,
      };
    });
  }

  checkpoints(runId: string, namespace?: string): Promise<Checkpoint[]> {
    return this.track(async () => (await this.rowsOfRun<CheckpointRow>(CHECKPOINT_COLUMNS, 'journal_checkpoints', runId, namespace)).map(rowToCheckpoint));
  }

  checkpoint(runId: string, stepId: string, namespace?: string): Promise<Checkpoint | undefined> {
    return this.track(async () => {
      const rows: CheckpointRow[] = await this.dataSource.query(
        `SELECT ${CHECKPOINT_COLUMNS} FROM journal_checkpoints WHERE run_id = $1 AND step_id = $2 AND ($3::text IS NULL OR namespace = $3)`,
        [runId, stepId, namespace ?? null],
      );
      const row = rows[0];
      return row === undefined ? undefined : rowToCheckpoint(row);
    });
  }

  /** One small batch per table (see pruneBatch in @weft/db). */
  pruneBatch(before: number, batchSize: number): Promise<{ entries: number; checkpoints: number }> {
    return this.track(async () => ({
      entries: await pruneBatch(this.dataSource, { table: 'journal_entries', column: 'at', before, batch: batchSize }),
      checkpoints: await pruneBatch(this.dataSource, { table: 'journal_checkpoints', column: 'at', before, batch: batchSize }),
    }));
  }

  now(): Promise<number> {
    return this.track(() => databaseNow(this.dataSource));
  }

  close(): Promise<void> {
    return this.inFlight.close();
  }

  /**
   * The checkpoints of `completions` (recorded step.completed entries; the caller holds their
   * runs' advisory locks). One read of the runs' checkpoints, one insert, and one update of
   * the checkpoints after them in their run's order, which did not know these outputs yet
   * (none when completions arrive in order). A run keeps one checkpoint per step: a completed
   * step is never run again (run.retry keeps it); of two completions of one step the one
   * journaled first keeps it.
   */
  private async writeCheckpoints(tx: Sql, completions: readonly NewJournalEntry[]): Promise<void> {
    const runIds = [...new Set(completions.map((item) => item.entry.runId))];
    const rows: (CheckpointPosition & { run_id: string; step_id: string; output: unknown })[] = await tx.query(
      `SELECT run_id, step_id, at, seq, idx, event_id, output FROM journal_checkpoints WHERE run_id IN (SELECT jsonb_array_elements_text($1::jsonb))`,
      [JSON.stringify(runIds)],
    );
    const inserts: unknown[][] = [];
    const patches: { run_id: string; step_id: string; patch: Record<string, unknown> }[] = [];
    for (const runId of runIds) {
      const run: { stepId: string; output: unknown; position: CheckpointPosition; item?: NewJournalEntry }[] = rows
        .filter((row) => row.run_id === runId)
        .map((row) => ({ stepId: row.step_id, output: row.output, position: row }));
      for (const item of completions) {
        const { entry } = item;
        if (entry.runId !== runId || entry.stepId === null || run.some((checkpoint) => checkpoint.stepId === entry.stepId)) continue;
        run.push({ stepId: entry.stepId, output: item.checkpointOutput ?? null, position: { at: entry.at, seq: entry.seq, idx: entry.index, event_id: entry.eventId }, item });
      }
      run.sort((x, y) => comparePositions(x.position, y.position));
      const state: Record<string, unknown> = {};
      let patch: Record<string, unknown> = {};
      for (const checkpoint of run) {
        state[checkpoint.stepId] = checkpoint.output;
        if (checkpoint.item === undefined) {
          if (Object.keys(patch).length > 0) patches.push({ run_id: runId, step_id: checkpoint.stepId, patch });
          continue;
        }
        const { entry, namespace } = checkpoint.item;
        inserts.push([runId, checkpoint.stepId, entry.workflow, entry.version, entry.attempt, entry.eventId, entry.at, entry.seq, entry.index, JSON.stringify(checkpoint.output), JSON.stringify(state), namespace]);
        patch = { ...patch, [checkpoint.stepId]: checkpoint.output };
      }
    }
    if (inserts.length > 0) {
      const values = inserts.map((_, row) => `(${CHECKPOINT_PLACEHOLDERS.map((placeholder) => placeholder(row * CHECKPOINT_PLACEHOLDERS.length)).join(', ')})`);
      await tx.query(
        `INSERT INTO journal_checkpoints (run_id, step_id, workflow, version, attempt, event_id, at, seq, idx, output, state, namespace)
         VALUES ${values.join(', ')}
         ON CONFLICT (run_id, step_id) DO NOTHING`,
        inserts.flat(),
      );
    }
    if (patches.length > 0) {
      await tx.query(
        `UPDATE journal_checkpoints AS c SET state = c.state || p.patch
         FROM jsonb_to_recordset($1::jsonb) AS p(run_id text, step_id text, patch jsonb)
         WHERE c.run_id = p.run_id AND c.step_id = p.step_id`,
        [JSON.stringify(patches)],
      );
    }
  }

  /** `table`'s rows of a run (of `namespace` when given), in event order. */
  private rowsOfRun<R>(columns: string, table: 'journal_entries' | 'journal_checkpoints', runId: string, namespace: string | undefined): Promise<R[]> {
    return this.dataSource.query(
      `SELECT ${columns} FROM ${table} WHERE run_id = $1 AND ($2::text IS NULL OR namespace = $2) ORDER BY at, seq, idx, event_id COLLATE "C"`,
      [runId, namespace ?? null],
    );
  }

  private track<T>(work: () => Promise<T>): Promise<T> {
    return this.inFlight.track(work);
  }
}

export type OpenJournalStoreOptions = OpenMigratedOptions & SqlJournalStoreOptions;

/**
 * Opens the data source, applies the journal's migrations (or, with `migrate: false`,
 * fails when any is pending) and builds the store. Close the store, then destroy the data source.
 */
export async function openJournalStore(
  config: DatabaseConfig,
  options: OpenJournalStoreOptions = {},
): Promise<{ store: SqlJournalStore; dataSource: DataSource; applied: string[] }> {
  const { dataSource, applied } = await openMigrated(
    config,
    { migrations: JOURNAL_MIGRATIONS, migrationsTableName: JOURNAL_MIGRATIONS_TABLE },
    "the journal's schema",
    options,
  );
  return { store: new SqlJournalStore(dataSource, options.batch === undefined ? {} : { batch: options.batch }), dataSource, applied };
}

const hasCheckpoint = ({ entry }: NewJournalEntry): boolean => entry.type === 'step.completed' && entry.stepId !== null;
const checkpointLock = (runId: string): string => `weft.journal.checkpoints:${runId}`;
