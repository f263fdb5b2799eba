import { randomBytes } from 'node:crypto';
import { type DynamicModule, Module } from '@nestjs/common';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { JetStreamBus } from '@weft/bus';
import { POSTGRES_TEST_URL, dropSchema, randomSchemaName } from '@weft/db';
import { bootService, type ServiceHandle, ShutdownModule } from '@weft/platform';
import {
  ApiModule,
  type ApiModuleOptions,
  eventsStreamOf,
  jetStreamGroupRemover,
  openSqlRunStore,
  SchedulerModule,
  SqlApiKeyRepository,
  type SqlRunStore,
  storedWorkflowCatalog,
} from '@weft/scheduler';
import { type ActionDefinition, builtinActions, createWorker, silentLogger, type Worker } from '@weft/worker';
import type { DataSource } from 'typeorm';

export const NATS_TEST_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

export interface ApiAppOptions {
  /** Requests without a key act in namespace default (dev mode). @default false */
  anonymous?: boolean;
  /** @default 1mb */
  bodyLimit?: string;
  /** Actions beyond the built-in ones the in-process worker serves. */
  actions?: ActionDefinition[];
  /** Start no worker (runs stay queued). @default true */
  worker?: boolean;
  templates?: ApiModuleOptions['templates'];
}

export interface ApiApp {
  url: string;
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
 * The scheduler with its HTTP API and an executor's worker in one Nest app on real NATS
 * (its own prefix) and PostgreSQL (its own schema), listening on 127.0.0.1:<free port>.
 * `close()` stops it and removes the streams and the schema.
 */
export async function startApiApp(options: ApiAppOptions = {}): Promise<ApiApp> {
  const prefix = `api${process.pid.toString(36)}${(++counter).toString(36)}${randomBytes(3).toString('hex')}`;
  const schema = randomSchemaName('api');
  const bus = await JetStreamBus.connect({ servers: NATS_TEST_URL, name: `weft-api-test-${prefix}`, prefix, pullExpiresMs: 2_000, onError: () => undefined });
  const { store, dataSource } = await openSqlRunStore({ kind: 'postgres', url: POSTGRES_TEST_URL, schema });
  const eventsStream = eventsStreamOf(bus.streamNames());
  const eventsGroup = `api-events-${prefix}`;
  const scheduler = SchedulerModule.forRoot({ bus, store, pollIntervalMs: 50, catalog: storedWorkflowCatalog(dataSource) });
  const api = ApiModule.forRoot({
    bus,
    store,
    dataSource,
    scheduler,
    auth: { anonymous: options.anonymous ?? false },
    events: { group: eventsGroup, removeGroup: jetStreamGroupRemover({ servers: NATS_TEST_URL, stream: eventsStream }) },
    watch: { pollMs: 500 },
    logger: { error: (msg, fields) => console.error(`[api-test] ${msg}`, fields) },
    ...(options.templates && { templates: options.templates }),
  });
  const worker =
    options.worker === false
      ? undefined
      : createWorker({ bus, queues: ['*'], actions: [...builtinActions(), ...(options.actions ?? [])], logger: silentLogger, concurrency: 16, announceIntervalMs: 200 });

  @Module({})
  class ApiTestModule {}
  const module: DynamicModule = {
    module: ApiTestModule,
    imports: [scheduler, api, ShutdownModule.closing(async () => worker?.stop(), () => bus.close(), () => store.close(), () => dataSource.destroy())],
  };
  const service = await bootService(module, { name: 'api-test', port: 0, host: '127.0.0.1', handleSignals: false, bodyLimit: options.bodyLimit ?? '1mb' });
  await worker?.start();
  const keys = new SqlApiKeyRepository(dataSource);
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopped ??= service.close());

  return {
    url: service.url,
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
