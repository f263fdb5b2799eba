import { createHash } from 'node:crypto';
import type { RunState } from '@weft/core';
import type { DataSource, EntityManager } from 'typeorm';
import { type RunRow, type StepRow, millis, rowToRun } from './run-state.mapper';

/**
 * A CTE that turns off `synchronous_commit` for its statement's own transaction: the
 * commit returns without waiting for the WAL flush. Only for writes a crash may lose
 * harmlessly: outbox claims and published marks (a lost one means the row is published
 * again, and the broker drops the repeat by its msgId), and `relaxed` updates (heartbeats).
 * Saves an fsync each.
 */
export const RELAXED_COMMIT = "SELECT set_config('synchronous_commit', 'off', true)";

/** Anything that runs SQL: the data source, or a transaction's manager. */
export type Sql = Pick<EntityManager, 'query'>;

/** A WHERE clause built condition by condition, `namespace = $1` first, with its positional parameters. */
export function namespaceFilter(namespace: string): { where: string[]; params: unknown[]; param: (value: unknown) => string } {
  const params: unknown[] = [namespace];
  return { where: ['namespace = $1'], params, param: (value) => `$${params.push(value)}` };
}

export const RUN_COLUMNS =
  'id, namespace, workflow, version, status, inputs, outputs, error, spec, plan, extra, seq, correlation_id, created_at, started_at, finished_at, deadline_at';
/**
 * A new run's row from `runToJson`'s JSON (`input`: a jsonb SQL expression), with its namespace and
 * idempotency key (SQL expressions too); nothing when the id or the key is taken. `where` (a
 * ` WHERE ...` clause, or '') makes it conditional. The caller adds its RETURNING clause.
 */
export function insertRunSql(input: string, namespace: string, idempotencyKey: string, where = ''): string {
  return `INSERT INTO runs (id, namespace, workflow, version, status, inputs, outputs, error, spec, plan, extra, seq,
                        idempotency_key, correlation_id, created_at, started_at, finished_at, deadline_at)
      SELECT e->>'id', ${namespace}, e->>'workflow', e->>'version', e->>'status', e->'inputs', e->'outputs', e->'error', e->'spec',
             e->'plan', e->'extra', (e->>'seq')::int, ${idempotencyKey}, e->>'correlation_id', (e->>'created_at')::timestamptz,
             (e->>'started_at')::timestamptz, (e->>'finished_at')::timestamptz, (e->>'deadline_at')::timestamptz
      FROM (SELECT ${input} AS e) AS input${where}
      ON CONFLICT DO NOTHING`;
}

export const stepColumns = (alias: string) =>
  ['run_id', 'step_id', 'status', 'attempt', 'token', 'queued_at', 'started_at', 'finished_at', 'lease_expires_at', 'next_attempt_at', 'output', 'error', 'attempts', 'extra']
    .map((column) => `${alias}.${column}`)
    .concat(`${alias}.output IS NOT NULL AS has_output`)
    .join(', ');

/** The run and its steps; with `lock`, the run row is locked first and the time read after it. */
export async function loadRun(tx: Sql, runId: string, lock: boolean, relaxed = false): Promise<{ state: RunState; now: number } | undefined> {
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

/** Statement texts whose names are remembered; the name of any other is computed again. */
const MAX_REMEMBERED_NAMES = 512;
const statementNames = new Map<string, string>();

/** A prepared statement's name: a digest of its text, so one name never stands for two texts, whichever store or data source uses it. */
function statementName(text: string): string {
  const known = statementNames.get(text);
  if (known !== undefined) return known;
  const name = `weft_${createHash('sha1').update(text).digest('hex')}`;
  if (statementNames.size < MAX_REMEMBERED_NAMES) statementNames.set(text, name);
  return name;
}

/** The slice of node-postgres' client a named statement needs. */
interface PgClient {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}

/**
 * Runs one statement on its own (autocommit). On PostgreSQL, as a named prepared statement:
 * each pooled connection parses a statement's text once, and after five executions the
 * server reuses a generic plan instead of planning every call (~0.4 ms of a chain hop's
 * write). Statements are named by a digest of their text, so a name always stands for the
 * same text on every connection. On PGlite (one in-process session, no network), a plain query.
 */
export function namedStatements(dataSource: DataSource): (sql: string, params?: unknown[]) => Promise<unknown[]> {
  if ((dataSource.options as { driver?: unknown }).driver !== undefined) return (sql, params) => dataSource.query(sql, params);
  return async (sql, params) => {
    const runner = dataSource.createQueryRunner();
    try {
      const client = (await runner.connect()) as PgClient;
      return (await client.query({ name: statementName(sql), text: sql, values: params ?? [] })).rows;
    } finally {
      await runner.release();
    }
  };
}
