import { readdirSync, readFileSync, renameSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { openAnalyticsStore, RecordAnalyticsEventUseCase } from '@weft/analytics';
import type { DatabaseConfig } from '@weft/db';
import { openJournalStore, RecordEventUseCase } from '@weft/journal';
import { openSqlRunStore } from '@weft/scheduler';
import { KEPT_RUNS_FORMAT, type KeptRunsFile, pendingDirOf } from './kept-runs';

export interface KeptRunsImport {
  /** Files imported (each one `weft run`). */
  imported: number;
  /** Lets go of the store; until then PGlite stays open, so the caller's own open of it joins it instead of starting it again. */
  close(): Promise<void>;
}

const nothing: KeptRunsImport = { imported: 0, close: async () => undefined };

/**
 * Writes the runs `weft run` left in `<dataDir>.pending/` (see keepRunsInFile) into the PGlite
 * store: each run as one row with its steps (created by its idempotency key: importing twice
 * changes nothing), each event into the journal and analytics (both once per event id). A file
 * is removed once all of it is in; one that cannot be read, or that the store refuses, is renamed
 * `*.invalid` and left (what of it was written stays: a later import of it would change nothing).
 * The caller holds no lock on the directory yet: this opens PGlite (taking its lock, or failing
 * with DB_LOCKED as any opener does). Without pending files it opens nothing.
 */
export async function importKeptRuns(database: DatabaseConfig, options: { migrate: boolean }): Promise<KeptRunsImport> {
  if (database.kind !== 'pglite' || database.dataDir === undefined) return nothing;
  const pending = pendingDirOf(database.dataDir);
  let files: string[];
  try {
    files = readdirSync(pending)
      .filter((name) => name.endsWith('.json'))
      .sort();
  } catch {
    return nothing;
  }
  if (files.length === 0) return nothing;

  const runs = await openSqlRunStore(database, { migrate: options.migrate });
  const release = async (): Promise<void> => {
    await runs.store.close();
    await runs.dataSource.destroy();
  };
  let imported = 0;
  try {
    const journal = await openJournalStore(database, { migrate: options.migrate });
    try {
      const analytics = await openAnalyticsStore(database, { migrate: options.migrate });
      try {
        const journaled = new RecordEventUseCase(journal.store);
        const counted = new RecordAnalyticsEventUseCase(analytics.store);
        for (const name of files) {
          const path = join(pending, name);
          let kept: KeptRunsFile;
          try {
            kept = JSON.parse(readFileSync(path, 'utf8')) as KeptRunsFile;
            if (kept.format !== KEPT_RUNS_FORMAT || !Array.isArray(kept.runs) || !Array.isArray(kept.events)) throw new Error(`unknown format ${String(kept.format)}`);
          } catch {
            renameSync(path, `${path}.invalid`);
            continue;
          }
          try {
            for (const { idempotencyKey, state } of kept.runs) {
              await runs.store.createRun(idempotencyKey, () => ({ state, outbox: [], schedule: [], cancel: [] }), { namespace: state.namespace });
            }
            // Both stores write what arrives together in one transaction, and fold an event by itself (its id, its delta).
            await Promise.all(kept.events.map((event) => journaled.execute(event.data, event.headers)));
            await Promise.all(kept.events.map((event) => counted.execute(event.data)));
          } catch {
            // The store refuses it (this process holds PGlite: nothing transient): set aside, so it blocks no reader and no `weft dev`.
            renameSync(path, `${path}.invalid`);
            continue;
          }
          unlinkSync(path);
          imported++;
        }
      } finally {
        await analytics.store.close();
        await analytics.dataSource.destroy();
      }
    } finally {
      await journal.store.close();
      await journal.dataSource.destroy();
    }
  } catch (error) {
    await release().catch(() => undefined);
    throw error;
  }
  return { imported, close: release };
}
