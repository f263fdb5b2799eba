import { type DynamicModule, Module } from '@nestjs/common';
import { InMemoryBus } from '@weft/bus';
import { PgliteDatabase } from '@weft/db';
import { randomSchemaName } from '@weft/db/testing';
import type { DataSource } from 'typeorm';
import { Authenticator } from '../auth/authenticator';
import { staticApiKeys } from '../auth/static-api-keys';
import { type HealthCheck, HealthModule } from '../health.module';
import { bootService, type ServiceHandle } from '../service.bootstrap';
import { type OpenSqlStore, withHarnessParts } from './sql-store.testing';

/** An answer of the service under test: status, content type and the parsed JSON body. */
export interface HttpAnswer<B> {
  status: number;
  type: string;
  body: B;
}

/** What a projection's `weft dev`-style spec works with; set up in beforeAll, closed in afterAll. */
export interface ProjectionOnPglite<S> {
  readonly bus: InMemoryBus;
  readonly store: S;
  readonly dataSource: DataSource;
  /** One API key per namespace: `default` and `team-b`. */
  readonly tenants: ReturnType<typeof staticApiKeys>;
  /** GET over HTTP with `key` (default: the `default` namespace's; null: none). */
  get<B = unknown>(path: string, key?: string | null): Promise<HttpAnswer<B>>;
}

/** The module under test, built from the harness's bus, store and API-key gate, and its readiness check. */
export type ProjectionUnderTest<S> = (parts: { bus: InMemoryBus; store: S; auth: Authenticator }) => { module: DynamicModule; readiness: HealthCheck };

/**
 * A projection (journal, analytics ...) as `weft dev` runs it, for the enclosing `describe`: its
 * store on PGlite in memory (a schema of its own), the in-memory bus, and the module booted as an
 * HTTP service on a loopback port behind an API-key gate, with the health routes.
 */
export function projectionOnPglite<S extends { close(): Promise<void> }>(name: string, open: OpenSqlStore<S>, build: ProjectionUnderTest<S>): ProjectionOnPglite<S> {
  const tenants = staticApiKeys(['default', 'team-b']);
  let database: PgliteDatabase | undefined;
  let bus: InMemoryBus | undefined;
  let opened: { store: S; dataSource: DataSource } | undefined;
  let service: ServiceHandle | undefined;
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error(`${name}: the service is not set up (read outside a test?)`);
    return value;
  };

  beforeAll(async () => {
    database = await PgliteDatabase.open();
    opened = await open({ kind: 'pglite', schema: randomSchemaName(name) }, { pglite: database });
    bus = new InMemoryBus({ errorNakDelayMs: 5 });
    const { module, readiness } = build({ bus, store: opened.store, auth: new Authenticator(tenants.keys, { anonymous: false }) });
    @Module({ imports: [module, HealthModule.forRoot([readiness])] })
    class AppModule {}
    service = await bootService(AppModule, { name: `${name}-test`, port: 0, host: '127.0.0.1', handleSignals: false });
  }, 60_000);

  afterAll(async () => {
    await service?.close();
    await bus?.close();
    await opened?.store.close();
    await opened?.dataSource.destroy();
    await database?.release();
  });

  return withHarnessParts(name, () => ({ bus, opened }), {
    tenants,
    get: async <B>(path: string, key: string | null = tenants.keyOf('default')): Promise<HttpAnswer<B>> => {
      const response = await fetch(`${ready(service).url}${path}`, { headers: key === null ? {} : { Authorization: `Bearer ${key}` } });
      return { status: response.status, type: response.headers.get('content-type') ?? '', body: (await response.json()) as B };
    },
  });
}
