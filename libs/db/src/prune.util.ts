import type { DataSource } from 'typeorm';

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

export interface PruneBatch {
  /** Table and timestamptz column, from code (interpolated as identifiers, so checked). */
  table: string;
  column: string;
  /** Rows whose `column` is before this instant are deleted (epoch ms). */
  before: number;
  /** At most this many rows. */
  batch: number;
}

/**
 * Deletes one small batch of old rows and says how many: rows are picked by ctid through
 * the column's index, each batch its own short statement, so writers never wait long
 * behind retention. A batch that comes back full means there may be more.
 */
export async function pruneBatch(dataSource: Pick<DataSource, 'query'>, { table, column, before, batch }: PruneBatch): Promise<number> {
  if (!IDENTIFIER.test(table) || !IDENTIFIER.test(column)) throw new Error(`pruneBatch: not a plain identifier: ${table}.${column}`);
  const rows: { n: number }[] = await dataSource.query(
    `WITH gone AS (DELETE FROM ${table} WHERE ctid IN (SELECT ctid FROM ${table} WHERE ${column} < $1::timestamptz LIMIT $2) RETURNING 1)
     SELECT count(*)::int AS n FROM gone`,
    [new Date(before).toISOString(), batch],
  );
  return rows[0]?.n ?? 0;
}
