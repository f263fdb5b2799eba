import { existsSync } from 'node:fs';
import { type InsightSummary, AnalyticsError, InsightsQueries, openAnalyticsStore, parseInsightQuery } from '@weft/analytics';
import { databaseConfigOf, loadConfig } from '@weft/config';
import { type DatabaseConfig, DbError } from '@weft/db';
import { JournalError, JournalQueries, openJournalStore, type RunHistory } from '@weft/journal';
import type { Io } from '../io';
import { apiBase, type FetchLike, getJson } from './api-client.util';
import { InsightsCliError } from './insights-cli.errors';

export interface HistoryReader {
  /** Where the answers come from, for messages. */
  source: string;
  history(runId: string): Promise<RunHistory>;
  close(): Promise<void>;
}

/** `since`/`until`: an ISO time or a duration back from now (`24h`); `window`: trend points averaged. */
export interface InsightsFilter {
  workflow?: string;
  since?: string;
  until?: string;
  window?: string;
}

export interface InsightsReader {
  source: string;
  summary(filter: InsightsFilter): Promise<InsightSummary>;
  close(): Promise<void>;
}

export interface ReaderOptions {
  /** A deployment's API; absent: the embedded database (`weft dev`'s). */
  api?: string;
  env: NodeJS.ProcessEnv;
  io: Io;
  fetch?: FetchLike;
  /** Sent as `Authorization: Bearer <key>` with every API request. */
  apiKey?: string;
}

/** The reader's fetch, with the API key on every request when there is one. */
function authorised(options: ReaderOptions): FetchLike | undefined {
  const { apiKey } = options;
  if (apiKey === undefined) return options.fetch;
  const inner = options.fetch ?? fetch;
  return (url, init) => inner(url, { ...init, headers: { ...init?.headers, authorization: `Bearer ${apiKey}` } });
}

export async function openHistoryReader(options: ReaderOptions): Promise<HistoryReader> {
  const base = await apiFor(options);
  if (base !== undefined) {
    return {
      source: base,
      history: (runId) => getJson<RunHistory>(base, `/v1/runs/${encodeURIComponent(runId)}/history`, {}, authorised(options)),
      close: async () => undefined,
    };
  }
  const config = embeddedDatabase(options.env);
  const { store, dataSource } = await openReadOnly(() => openJournalStore(config, { migrate: false }), config, 'journal');
  const queries = new JournalQueries(store);
  return {
    source: describe(config),
    history: async (runId) => {
      try {
        // Straight from the database: the operator's view, every namespace.
        return await queries.history(runId, null);
      } catch (error) {
        if (error instanceof JournalError && error.code === 'RUN_NOT_FOUND') throw new InsightsCliError('NOT_FOUND', `${error.message} (in ${describe(config)})`);
        throw error;
      }
    },
    close: async () => {
      await store.close();
      await dataSource.destroy();
    },
  };
}

export async function openInsightsReader(options: ReaderOptions): Promise<InsightsReader> {
  const base = await apiFor(options);
  if (base !== undefined) {
    return {
      source: base,
      summary: (filter) => getJson<InsightSummary>(base, '/v1/insights', { workflow: filter.workflow, since: filter.since, until: filter.until, window: filter.window }, authorised(options)),
      close: async () => undefined,
    };
  }
  const config = embeddedDatabase(options.env);
  const { store, dataSource } = await openReadOnly(() => openAnalyticsStore(config, { migrate: false }), config, 'analytics');
  const queries = new InsightsQueries(store);
  return {
    source: describe(config),
    summary: async (filter) => {
      try {
        const raw = Object.fromEntries(Object.entries(filter).filter(([, value]) => value !== undefined));
        return await queries.summary(parseInsightQuery(raw, await queries.now()));
      } catch (error) {
        if (error instanceof AnalyticsError && error.code === 'INVALID_QUERY') throw new InsightsCliError('INVALID', error.message);
        throw error;
      }
    },
    close: async () => {
      await store.close();
      await dataSource.destroy();
    },
  };
}

/**
 * --api when given. Otherwise, when `weft dev` answers on HOST:PORT and keeps its
 * data in PGlite, its API: PGlite is one process's database, and a second process
 * opening the same directory could corrupt it.
 */
async function apiFor(options: ReaderOptions): Promise<string | undefined> {
  if (options.api !== undefined) return apiBase(options.api);
  const config = embeddedDatabase(options.env);
  if (config.kind !== 'pglite') return undefined;
  const dev = await runningDevServer(options.env, options.fetch ?? fetch);
  if (dev !== undefined) options.io.err(`weft dev is running on ${dev} and owns ${describe(config)}: asking it (pass --api to choose another deployment)`);
  return dev;
}

async function runningDevServer(env: NodeJS.ProcessEnv, fetchImpl: FetchLike): Promise<string | undefined> {
  let host: string;
  let port: number;
  try {
    ({ HOST: host, PORT: port } = loadConfig(env));
  } catch {
    return undefined;
  }
  const base = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  try {
    const response = await fetchImpl(`${base}/health/live`, { signal: AbortSignal.timeout(500) });
    const body = (await response.json()) as { status?: unknown };
    return response.ok && body.status === 'ok' ? base : undefined;
  } catch {
    return undefined;
  }
}

function embeddedDatabase(env: NodeJS.ProcessEnv): DatabaseConfig {
  let config: DatabaseConfig;
  try {
    config = databaseConfigOf(loadConfig(env));
  } catch (error) {
    throw new InsightsCliError('INVALID', error instanceof Error ? error.message : String(error));
  }
  if (config.kind === 'pglite' && config.dataDir === undefined) {
    throw new InsightsCliError('NO_EMBEDDED_DATA', 'WEFT_DATA_DIR is memory://: nothing outlives `weft dev` there; pass --api to ask a running deployment');
  }
  if (config.kind === 'pglite' && config.dataDir !== undefined && !existsSync(config.dataDir)) {
    throw new InsightsCliError('NO_EMBEDDED_DATA', `no embedded database in ${config.dataDir}: runs are journaled by \`weft dev\` (or pass --api for a deployment)`);
  }
  return config;
}

async function openReadOnly<T>(open: () => Promise<T>, config: DatabaseConfig, what: string): Promise<T> {
  try {
    return await open();
  } catch (error) {
    if (error instanceof DbError && error.code === 'DB_MIGRATIONS_PENDING') {
      throw new InsightsCliError('NO_EMBEDDED_DATA', `${describe(config)} has no ${what} tables yet: start \`weft dev\` once (or run \`weft migrate\`)`);
    }
    throw error;
  }
}

const describe = (config: DatabaseConfig): string => (config.kind === 'postgres' ? 'PostgreSQL (DATABASE_URL)' : `PGlite in ${config.dataDir ?? 'memory'}`);
