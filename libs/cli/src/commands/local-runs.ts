import { existsSync } from 'node:fs';
import { databaseConfigOf, loadConfig } from '@weft/config';
import { formatMs, RUN_STATUSES, type RunStatus } from '@weft/core';
import { DbError } from '@weft/db';
import { openSqlRunStore, SqlRunDirectory } from '@weft/scheduler';
import { CliUsageError } from '../cli-usage.error';
import { EXIT } from '../exit-codes';
import type { Io } from '../io';
import { describeDatabase } from '../embedded/kept-runs';
import { importKeptRuns, type KeptRunsImport } from '../embedded/kept-runs.import';

export interface LocalListFlags {
  workflow?: string;
  status?: string;
  since?: string;
  limit?: string;
  json?: boolean;
}

/**
 * True when `weft runs list` should read the local store: no --api, no WEFT_API_URL, and
 * the store `weft run` keeps exists (PGlite in WEFT_DATA_DIR). With `weft dev` running, the
 * API answers instead (the dev server holds the PGlite lock): see the caller.
 */
export function localStoreApplies(flags: { api?: string }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (flags.api !== undefined) return false;
  const config = loadConfig(env);
  if (config.WEFT_API_URL !== undefined) return false;
  const database = databaseConfigOf(config);
  return database.kind === 'pglite' && database.dataDir !== undefined && existsSync(database.dataDir);
}

const since = (text: string, now: number): number => {
  const duration = /^(\d{1,6})(m|h|d)$/.exec(text);
  if (duration) return now - Number(duration[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[duration[2] as 'm' | 'h' | 'd'];
  const at = Date.parse(text);
  if (Number.isNaN(at)) throw new CliUsageError(`--since: expected a duration back from now (30m, 24h, 7d) or an ISO time (got ${JSON.stringify(text)})`);
  return at;
};

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** `weft runs list` on the local store, every namespace (the operator's view, as `weft history` reads it). */
export async function localRunsList(flags: LocalListFlags, io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const status = flags.status?.split(',').map((s) => s.trim());
  const unknown = status?.filter((s) => !(RUN_STATUSES as readonly string[]).includes(s)) ?? [];
  if (unknown.length > 0) throw new CliUsageError(`--status: unknown ${unknown.join(', ')}; expected ${RUN_STATUSES.join(', ')}`);
  const limit = flags.limit === undefined ? 20 : Number(flags.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 200) throw new CliUsageError('--limit: expected 1 to 200');
  const config = loadConfig(env);
  const database = databaseConfigOf(config);
  let opened;
  let kept: KeptRunsImport | undefined;
  try {
    // Runs `weft run` left for the store go in first; PGlite stays open for the read below.
    kept = await importKeptRuns(database, { migrate: config.WEFT_MIGRATE });
    opened = await openSqlRunStore(database, { migrate: false });
  } catch (error) {
    await kept?.close();
    // DB_LOCKED goes to the caller: `weft dev` holds the store, and its API answers instead.
    if (error instanceof DbError && error.code === 'DB_MIGRATIONS_PENDING') {
      io.err(error.message);
      return EXIT.invalid;
    }
    throw error;
  }
  try {
    const directory = new SqlRunDirectory(opened.dataSource);
    const namespaces: { namespace: string }[] = await opened.dataSource.query('SELECT DISTINCT namespace FROM runs');
    const filter = {
      ...(flags.workflow !== undefined && { workflow: flags.workflow }),
      ...(status !== undefined && { status: status as RunStatus[] }),
      ...(flags.since !== undefined && { since: since(flags.since, Date.now()) }),
    };
    const listings = (await Promise.all(namespaces.map(({ namespace }) => directory.list(namespace, filter, { limit }))))
      .flat()
      .sort((a, b) => b.createdAt - a.createdAt || b.runId.localeCompare(a.runId))
      .slice(0, limit);
    const items = listings.map((r) => ({
      runId: r.runId,
      namespace: r.namespace,
      workflow: r.workflow,
      version: r.version,
      status: r.status,
      createdAt: iso(r.createdAt),
      startedAt: iso(r.startedAt),
      finishedAt: iso(r.finishedAt),
      durationMs: r.startedAt !== null && r.finishedAt !== null ? r.finishedAt - r.startedAt : null,
      error: r.error,
    }));
    if (flags.json) io.out(JSON.stringify({ items, nextCursor: null, source: describeDatabase(database) }, null, 2));
    else if (items.length === 0) io.out(`no runs in ${describeDatabase(database)}`);
    else {
      const rows = [['RUN', 'WORKFLOW', 'VERSION', 'STATUS', 'CREATED', 'DURATION'], ...items.map((r) => [r.runId, r.workflow, r.version, r.status, r.createdAt ?? '-', r.durationMs === null ? '-' : formatMs(r.durationMs)])];
      const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
      for (const row of rows) io.out(row.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd());
      io.err(`(from ${describeDatabase(database)}; --api for a deployment)`);
    }
    return EXIT.ok;
  } finally {
    await opened.store.close();
    await opened.dataSource.destroy();
    await kept.close();
  }
}
