import { randomBytes } from 'node:crypto';
import { type DynamicModule, Module } from '@nestjs/common';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { JetStreamBus } from '@weft/bus';
import { AnalyticsModule, openAnalyticsStore } from '@weft/analytics';
import type { BlobStore } from '@weft/contracts';
import { SqlBlobStore } from '@weft/db';
import { POSTGRES_TEST_URL, dropSchema, randomSchemaName } from '@weft/db/testing';
import { JournalModule, openJournalStore } from '@weft/journal';
import { Authenticator, bootService, type ServiceHandle, ShutdownModule } from '@weft/platform';
import { ApiModule, type ApiModuleOptions, openSqlRunStore, SchedulerModule, SqlApiKeyRepository, type SqlRunStore, storedWorkflowCatalog } from '@weft/scheduler';
import { type ActionDefinition, builtinActions, createWorker, silentLogger, type Worker } from '@weft/worker';
import type { DataSource } from 'typeorm';

export const NATS_TEST_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

export interface ApiAppOptions {
  /** Requests without a key act in namespace default (dev mode). @default false */
  anonymous?: boolean;
  /** The operator's admin credential (WEFT_ADMIN_KEY). @default none */
  adminKey?: string;
  /** @default 1mb */
  bodyLimit?: string;
  /** WEFT_SHUTDOWN_GRACE_MS of the app's close. @default 25000 */
  shutdownGraceMs?: number;
  /** Actions beyond the built-in ones the in-process worker serves. */
  actions?: ActionDefinition[];
  /** Start no worker (runs stay queued). @default true */
  worker?: boolean;
  templates?: ApiModuleOptions['templates'];
  /**
   * Also run the journal and analytics on the same bus and schema: `in-app` mounts them in
   * the API's app, behind its gate (as `weft dev` does); `standalone` boots each as its own
   * HTTP service with its own API-key gate over the shared `api_keys` table (as Kubernetes
   * runs them). Absent: neither.
   */
  observers?: 'in-app' | 'standalone';
  /** WEFT_STUCK_AFTER of the exception queue, in ms. @default 15 minutes */
  stuckAfterMs?: number;
  /** How long the API listens to worker announcements before it lists queues without a worker. @default 15000 */
  workerSettleMs?: number;
  /** The blob store of the scheduler and the API (e.g. blobsOf with WEFT_BLOB_URL). @default the schema's blobs table */
  blobs?: (dataSource: DataSource) => BlobStore;
}

export interface ApiApp {
  url: string;
  /** Where the journal's and analytics' routes answer (`url` when in-app; undefined without observers). */
  journalUrl: string | undefined;
  analyticsUrl: string | undefined;
  prefix: string;
  schema: string;
  bus: JetStreamBus;
  store: SqlRunStore;
  dataSource: DataSource;
  service: ServiceHandle;
  worker: Worker | undefined;
  /** The events group of the API's hub (to check it is removed on close). */
  eventsGroup: string;
  eventsStream: string;
  /** A fresh API key of the namespace (made straight in the database). */
  key(namespace?: string): Promise<string>;
  /** fetch against the app; `key` adds `Authorization: Bearer`, `json` sends a JSON body. */
  request(method: string, path: string, options?: { key?: string; json?: unknown; body?: string; headers?: Record<string, string> }): Promise<Response>;
  /** Rows of a query on the app's schema. */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Stops the app (HTTP, consumers, worker); the streams and the schema stay until close(). */
  stop(): Promise<void>;
  close(): Promise<void>;
}

let counter = 0;

/**
 * For a describe block: before all its tests, `startApiApp(options)` and a key of its default
 * namespace, handed to `started`; after them, the app closed.
 */
export function apiAppForSuite(options: ApiAppOptions, started: (suite: { app: ApiApp; key: string }) => void): void {
  let app: ApiApp | undefined;
  beforeAll(async () => {
    app = await startApiApp(options);
    started({ app, key: await app.key() });
  }, 30_000);
  afterAll(async () => {
    await app?.close();
  }, 30_000);
}

/**
 * The scheduler with its HTTP API and an executor's worker in one Nest app on real NATS
 * (its own prefix) and PostgreSQL (its own schema), listening on 127.0.0.1:<free port>.
 * `close()` stops it and removes the streams and the schema.
 */
export async function startApiApp(options: ApiAppOptions = {}): Promise<ApiApp> {
  const prefix = `api${process.pid.toString(36)}${(++counter).toString(36)}${randomBytes(3).toString('hex')}`;
  const schema = randomSchemaName('api');
  const bus = await JetStreamBus.connect({ servers: NATS_TEST_URL, name: `weft-api-test-${prefix}`, prefix, pullExpiresMs: 2_000, onError: () => undefined });
  const { store, dataSource } = await openSqlRunStore({ kind: 'postgres', url: POSTGRES_TEST_URL, schema });
  const eventsStream = bus.streamNames().find((name) => name.endsWith('_WEFT_EVENTS'));
  if (eventsStream === undefined) throw new Error(`no events stream among ${bus.streamNames().join(', ')}`);
  const eventsGroup = `api-events-${prefix}`;
  const blobs = options.blobs?.(dataSource) ?? new SqlBlobStore(dataSource);
  const scheduler = SchedulerModule.forRoot({ bus, store, pollIntervalMs: 50, catalog: storedWorkflowCatalog(dataSource), blobs });
  const api = ApiModule.forRoot({
    bus,
    store,
    dataSource,
    scheduler,
    blobs,
    auth: { anonymous: options.anonymous ?? false, ...(options.adminKey !== undefined && { adminKey: options.adminKey }) },
    events: { group: eventsGroup },
    watch: { pollMs: 500 },
    logger: { error: (msg, fields) => console.error(`[api-test] ${msg}`, fields) },
    ...(options.templates && { templates: options.templates }),
    ...(options.stuckAfterMs !== undefined && { stuckAfterMs: options.stuckAfterMs }),
    ...(options.workerSettleMs !== undefined && { workerSettleMs: options.workerSettleMs }),
  });
  const worker =
    options.worker === false
      ? undefined
      : createWorker({ bus, queues: ['*'], actions: [...builtinActions(), ...(options.actions ?? [])], logger: silentLogger, concurrency: 16, announceIntervalMs: 200 });

  const observers = options.observers === undefined ? undefined : await startObservers(bus, schema, options.observers);

  @Module({})
  class ApiTestModule {}
  const module: DynamicModule = {
    module: ApiTestModule,
    imports: [
      scheduler,
      api,
      ...(observers?.inApp ?? []),
      ShutdownModule.closing(async () => worker?.stop(), ...(observers ? [observers.stop] : []), () => bus.close(), () => store.close(), () => dataSource.destroy()),
    ],
  };
  const service = await bootService(module, { name: 'api-test', port: 0, host: '127.0.0.1', handleSignals: false, bodyLimit: options.bodyLimit ?? '1mb', ...(options.shutdownGraceMs !== undefined && { shutdownGraceMs: options.shutdownGraceMs }) });
  const standalone = observers ? await observers.boot() : undefined;
  await worker?.start();
  const keys = new SqlApiKeyRepository(dataSource);
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopped ??= service.close());

  return {
    url: service.url,
    journalUrl: observers ? (standalone?.journal ?? service.url) : undefined,
    analyticsUrl: observers ? (standalone?.analytics ?? service.url) : undefined,
    prefix,
    schema,
    bus,
    store,
    dataSource,
    service,
    worker,
    eventsGroup,
    eventsStream,
    key: async (namespace = 'default') => (await keys.create(namespace, 'test')).key,
    request: (method, path, { key, json, body, headers = {} } = {}) =>
      fetch(`${service.url}${path}`, {
        method,
        headers: {
          ...(key !== undefined && { Authorization: `Bearer ${key}` }),
          ...(json !== undefined && { 'Content-Type': 'application/json' }),
          ...headers,
        },
        ...(json !== undefined ? { body: JSON.stringify(json) } : body !== undefined ? { body } : {}),
      }),
    query: (sql, params = []) => dataSource.query(sql, params),
    stop,
    close: async () => {
      await stop();
      const nc = await connect({ servers: NATS_TEST_URL, name: 'weft-api-test-cleanup' });
      try {
        const jsm = await jetstreamManager(nc);
        for (const name of bus.streamNames()) await jsm.streams.delete(name).catch(() => false);
      } finally {
        await nc.close();
      }
      await dropSchema(schema);
    },
  };
}

/**
 * The journal and analytics on the app's bus and schema. In-app: modules for the API's app
 * (its gate covers them). Standalone: two more HTTP services, each gating with the keys
 * the scheduler stores in the same schema. `stop` ends them and closes their stores.
 */
async function startObservers(
  bus: JetStreamBus,
  schema: string,
  mode: 'in-app' | 'standalone',
): Promise<{ inApp: DynamicModule[]; boot(): Promise<{ journal: string; analytics: string } | undefined>; stop(): Promise<void> }> {
  const database = { kind: 'postgres' as const, url: POSTGRES_TEST_URL, schema };
  const journal = await openJournalStore(database);
  const analytics = await openAnalyticsStore(database);
  const services: ServiceHandle[] = [];
  const gate = (source: DataSource) => (mode === 'standalone' ? { auth: new Authenticator(new SqlApiKeyRepository(source), { anonymous: false }) } : {});
  const journalModule = JournalModule.forRoot({ bus, store: journal.store, ...gate(journal.dataSource) });
  const analyticsModule = AnalyticsModule.forRoot({ bus, store: analytics.store, ...gate(analytics.dataSource) });
  return {
    inApp: mode === 'in-app' ? [journalModule, analyticsModule] : [],
    boot: async () => {
      if (mode === 'in-app') return undefined;
      const boot = (module: DynamicModule, name: string) => bootService(module, { name, port: 0, host: '127.0.0.1', handleSignals: false });
      services.push(await boot(journalModule, 'journal-test'), await boot(analyticsModule, 'analytics-test'));
      return { journal: services[0].url, analytics: services[1].url };
    },
    stop: async () => {
      for (const service of services.splice(0)) await service.close();
      await journal.store.close();
      await analytics.store.close();
      await journal.dataSource.destroy();
      await analytics.dataSource.destroy();
    },
  };
}
