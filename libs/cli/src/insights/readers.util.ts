import { existsSync } from 'node:fs';
import { type InsightSummary, AnalyticsError, InsightsQueries, openAnalyticsStore, parseInsightQuery } from '@weft/analytics';
import { databaseConfigOf, loadConfig } from '@weft/config';
import { type DatabaseConfig, DbError } from '@weft/db';
import { JournalError, JournalQueries, openJournalStore, type RunHistory } from '@weft/journal';
import { type FetchLike, WeftApiError, WeftClient, WeftConnectionError } from '@weft/sdk';
import type { Io } from '../io';
import { exitCodeFor } from './exit-code.util';
import { InsightsCliError } from './insights-cli.errors';
import { describeDatabase as describe } from '../embedded/kept-runs';
import { importKeptRuns } from '../embedded/kept-runs.import';

/** What every reader has: where its answers come from (for messages), and close. */
interface Reader {
  source: string;
  close(): Promise<void>;
}

export interface HistoryReader extends Reader {
  history(runId: string): Promise<RunHistory>;
}

/** `since`/`until`: an ISO time or a duration back from now (`24h`); `window`: trend points averaged. */
export interface InsightsFilter {
  workflow?: string;
  since?: string;
  until?: string;
  window?: string;
}

export interface InsightsReader extends Reader {
  summary(filter: InsightsFilter): Promise<InsightSummary>;
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

/** --api-key, else WEFT_API_KEY (read through @weft/config like every other --api verb). */
export function apiKeyOf(options: { apiKey?: string }, env: NodeJS.ProcessEnv): string | undefined {
  return options.apiKey ?? loadConfig(env).WEFT_API_KEY;
}

/** A single answer may take this long (the SDK's client itself waits as long as a stream lasts). */
const REQUEST_TIMEOUT_MS = 15_000;

/** The SDK's client for the deployment at `base`, each request bounded by REQUEST_TIMEOUT_MS. */
function clientAt(base: string, options: ReaderOptions): WeftClient {
  const inner = options.fetch ?? fetch;
  const bounded: FetchLike = (url, init) => inner(url, { ...init, signal: init.signal ?? AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  return new WeftClient({ url: base, fetch: bounded, ...(options.apiKey !== undefined && { apiKey: options.apiKey }) });
}

/** The client's errors as the exit codes of `weft history` / `weft insights` know them. */
async function fromApi<T>(request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    if (error instanceof WeftApiError) {
      const { status, title, detail } = error.problem;
      throw new InsightsCliError(status === 404 ? 'NOT_FOUND' : status < 500 ? 'INVALID' : 'API_ERROR', `${status} ${title}: ${detail}`, { cause: error });
    }
    if (error instanceof WeftConnectionError) throw new InsightsCliError('API_UNREACHABLE', error.message, { cause: error });
    throw error;
  }
}

export function openHistoryReader(options: ReaderOptions): Promise<HistoryReader> {
  return openReader(
    options,
    (client) => ({ history: (runId) => fromApi(() => client.runs.history(runId)) }),
    {
      what: 'journal',
      open: (config) => openJournalStore(config, { migrate: false }),
      reader: (store, where) => {
        const queries = new JournalQueries(store);
        return {
          history: async (runId) => {
            try {
              // Straight from the database: the operator's view, every namespace.
              return await queries.history(runId, null);
            } catch (error) {
              if (error instanceof JournalError && error.code === 'RUN_NOT_FOUND') throw new InsightsCliError('NOT_FOUND', `${error.message} (in ${where})`);
              throw error;
            }
          },
        };
      },
    },
  );
}

export function openInsightsReader(options: ReaderOptions): Promise<InsightsReader> {
  return openReader(
    options,
    (client) => ({
      summary: (filter) =>
        fromApi(() =>
          client.insights.summary({
            ...(filter.workflow !== undefined && { workflow: filter.workflow }),
            ...(filter.since !== undefined && { since: filter.since }),
            ...(filter.until !== undefined && { until: filter.until }),
            ...(filter.window !== undefined && { window: trendWindow(filter.window) }),
          }),
        ),
    }),
    {
      what: 'analytics',
      open: (config) => openAnalyticsStore(config, { migrate: false }),
      reader: (store) => {
        const queries = new InsightsQueries(store);
        return {
          summary: async (filter) => {
            try {
              const raw = Object.fromEntries(Object.entries(filter).filter(([, value]) => value !== undefined));
              return await queries.summary(parseInsightQuery(raw, await queries.now()));
            } catch (error) {
              if (error instanceof AnalyticsError && error.code === 'INVALID_QUERY') throw new InsightsCliError('INVALID', error.message);
              throw error;
            }
          },
        };
      },
    },
  );
}

/**
 * Over the deployment's API when there is one to ask (apiFor), else on the embedded
 * database, opened without migrating; closing it closes the store and its data source.
 */
async function openReader<R, S extends { close(): Promise<void> }>(
  options: ReaderOptions,
  overApi: (client: WeftClient) => R,
  embedded: {
    /** Whose tables, for the message when they are missing. */
    what: string;
    open: (config: DatabaseConfig) => Promise<{ store: S; dataSource: { destroy(): Promise<void> } }>;
    /** `where`: the database, for messages. */
    reader: (store: S, where: string) => R;
  },
): Promise<R & Reader> {
  const base = await apiFor(options);
  if (base !== undefined) return { ...overApi(clientAt(base, options)), source: base, close: async () => undefined };
  const config = embeddedDatabase(options.env);
  // Runs `weft run` left for the store go in first; PGlite stays open for the reader's own open.
  const kept = await openReadOnly(() => importKeptRuns(config, { migrate: migrateOf(options.env) }), config, embedded.what);
  let opened;
  try {
    opened = await openReadOnly(() => embedded.open(config), config, embedded.what);
  } catch (error) {
    await kept.close();
    throw error;
  }
  const { store, dataSource } = opened;
  return {
    ...embedded.reader(store, describe(config)),
    source: describe(config),
    close: async () => {
      await store.close();
      await dataSource.destroy();
      await kept.close();
    },
  };
}

/** Opens a reader for a command (its --api and --api-key), hands it to `use` and closes it; an error becomes the command's exit code. */
export async function withReader<R extends Reader>(
  open: (options: ReaderOptions) => Promise<R>,
  command: { api?: string; apiKey?: string },
  context: { io: Io; env: NodeJS.ProcessEnv; fetch: FetchLike | undefined },
  use: (reader: R) => Promise<number>,
): Promise<number> {
  const { io, env } = context;
  try {
    const apiKey = apiKeyOf(command, env);
    const reader = await open({ env, io, ...(command.api !== undefined && { api: command.api }), ...(apiKey !== undefined && { apiKey }), ...(context.fetch && { fetch: context.fetch }) });
    try {
      return await use(reader);
    } finally {
      await reader.close();
    }
  } catch (error) {
    return exitCodeFor(error, io);
  }
}

/** --window for the API, which takes a number (the embedded reader parses the text itself). */
function trendWindow(text: string): number {
  if (!/^\d{1,4}$/.test(text)) throw new InsightsCliError('INVALID', `--window: expected a whole number of trend points (got ${JSON.stringify(text)})`);
  return Number(text);
}

/** The base URL of a deployment's API, without a trailing slash or /v1. */
function apiBase(url: string): string {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed?.protocol !== 'http:' && parsed?.protocol !== 'https:') {
    throw new InsightsCliError('INVALID', `--api: expected a URL such as http://127.0.0.1:8080 (got ${JSON.stringify(url)})`);
  }
  return parsed.toString().replace(/\/+$/, '').replace(/\/v1$/, '');
}

/**
 * --api when given. Otherwise, when `weft dev` answers on HOST:PORT and keeps its
 * data in PGlite, its API: PGlite is one process's database, and a second process
 * opening the same directory could corrupt it.
 */
async function apiFor(options: ReaderOptions): Promise<string | undefined> {
  if (options.api !== undefined) return apiBase(options.api);
  // The same variable every other --api verb reads (through @weft/config, the one reader of the environment).
  const fromEnv = loadConfig(options.env).WEFT_API_URL;
  if (fromEnv !== undefined) return apiBase(fromEnv);
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

/** WEFT_MIGRATE: whether the import of kept runs may create the tables (as `weft run` did before it kept runs in a file). */
function migrateOf(env: NodeJS.ProcessEnv): boolean {
  try {
    return loadConfig(env).WEFT_MIGRATE;
  } catch {
    return false;
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
