import { storableText } from '@weft/contracts';
import type { DataSource } from 'typeorm';
import { EARLY_CANCEL_TTL_MS, type EarlyCancelStore } from '../ports/run-store.port';

/** Cancels that arrived before their run, in the `early_cancels` table (migration 1797400000000). */
export class SqlEarlyCancels implements EarlyCancelStore {
  constructor(private readonly dataSource: DataSource) {}

  async remember(runId: string, reason: string): Promise<void> {
    // One statement: the insert, and the rows no run took within the TTL go.
    await this.dataSource.query(
      `WITH expired AS (DELETE FROM early_cancels WHERE created_at < now() - ($3::double precision * interval '1 millisecond'))
       INSERT INTO early_cancels (run_id, reason) VALUES ($1, $2) ON CONFLICT (run_id) DO NOTHING`,
      [runId, storableText(reason), EARLY_CANCEL_TTL_MS],
    );
  }

  async take(runId: string): Promise<string | undefined> {
    // Selected from the CTE: plain rows on PostgreSQL and PGlite alike (a bare DELETE ... RETURNING is not).
    const rows: { reason: string }[] = await this.dataSource.query(`WITH taken AS (DELETE FROM early_cancels WHERE run_id = $1 RETURNING reason) SELECT reason FROM taken`, [runId]);
    return rows[0]?.reason;
  }
}

/** The same in process memory (MemoryRunStore). */
export class MemoryEarlyCancels implements EarlyCancelStore {
  private readonly cancels = new Map<string, { reason: string; at: number }>();

  constructor(private readonly clock: () => number) {}

  async remember(runId: string, reason: string): Promise<void> {
    const now = this.clock();
    for (const [id, kept] of this.cancels) if (kept.at < now - EARLY_CANCEL_TTL_MS) this.cancels.delete(id);
    if (!this.cancels.has(runId)) this.cancels.set(runId, { reason, at: now });
  }

  async take(runId: string): Promise<string | undefined> {
    const kept = this.cancels.get(runId);
    this.cancels.delete(runId);
    return kept?.reason;
  }
}
