import { type DynamicModule, Module, type Type } from '@nestjs/common';
import type { JetStreamBus } from '@weft/bus';
import { type DatabaseConfig, databaseConfigOf, type WeftConfig } from '@weft/config';
import type { ServiceStart } from '@weft/telemetry';
import type { DataSource } from 'typeorm';
import { connectBus } from './connect-bus';
import { type HealthCheck, HealthModule } from './health.module';
import { createLogger, type WeftLogger } from './logger.factory';
import { bootService, type ServiceHandle } from './service.bootstrap';
import { ShutdownModule } from './shutdown.module';

/** What every service process has once it is connected. */
export interface ServiceRuntime {
  config: WeftConfig;
  logger: WeftLogger;
  bus: JetStreamBus;
}

/** What a service adds to the common shell (metrics, health, graceful shutdown). */
export interface ServiceComposition {
  imports: (Type | DynamicModule)[];
  /** Readiness beyond the connections the shell checks itself (nats, postgres). */
  health?: HealthCheck[];
  /** Run at shutdown after the bus closes and before the database and the spans. */
  closing?: (() => Promise<void>)[];
  /** Largest JSON request body. @default Nest's, 100kb */
  bodyLimit?: string;
  /** Keep raw request bodies (`req.rawBody`) for signature checks. @default false */
  rawBody?: boolean;
  /** What the start-up line says it does (`serving default,io`). @default listening */
  doing?: string;
  /** Extra fields of the start-up log line. */
  fields?: Record<string, unknown>;
}

export interface ServiceDefinition {
  /** `journal`: the log's `service`, the bus connection `weft-<name>`. */
  name: string;
  compose(runtime: ServiceRuntime): ServiceComposition | Promise<ServiceComposition>;
}

/**
 * Boots one service process (after `serviceMain` started tracing): logger, bus, the service's
 * modules, `/health/*` and `/metrics`, and SIGTERM closing in order: consumers drain, then
 * the bus, the service's closers, and the spans last so the drain's own are exported too.
 */
export interface RunServiceOptions {
  /** Close on SIGTERM/SIGINT and exit. @default true (tests close the handle themselves) */
  handleSignals?: boolean;
}

export async function runService(start: ServiceStart, definition: ServiceDefinition, options: RunServiceOptions = {}): Promise<ServiceHandle> {
  const { config, tracing } = start;
  const logger = createLogger({ level: config.LOG_LEVEL, service: definition.name });
  const bus = await connectBus(config, `weft-${definition.name}`, logger);
  const composition = await definition.compose({ config, logger, bus });

  @Module({
    imports: [
      ...composition.imports,
      HealthModule.forRoot([{ name: 'nats', check: () => bus.health() }, ...(composition.health ?? [])]),
      ShutdownModule.closing(() => bus.close(), ...(composition.closing ?? []), () => tracing.shutdown()),
    ],
  })
  class ServiceAppModule {}

  const service = await bootService(ServiceAppModule, {
    name: definition.name,
    port: config.PORT,
    host: config.HOST,
    logger,
    shutdownGraceMs: config.WEFT_SHUTDOWN_GRACE_MS,
    ...(options.handleSignals === false && { handleSignals: false }),
    ...(composition.bodyLimit !== undefined && { bodyLimit: composition.bodyLimit }),
    ...(composition.rawBody === true && { rawBody: true }),
  });
  const doing = composition.doing ?? 'listening';
  logger.info(`${definition.name} ${doing}`, { url: service.url, tracing: tracing.enabled, ...composition.fields });
  process.stdout.write(`weft ${definition.name} ${doing} on ${service.url}\n`);
  return service;
}

/** A store and the migrated data source it runs on. */
export interface OpenedStore<S extends { close(): Promise<void> }> {
  store: S;
  dataSource: DataSource;
}

/** Opens a service's store on the configured database, migrating first unless told not to. */
export type StoreOpener<S extends { close(): Promise<void> }> = (database: DatabaseConfig, options: { migrate: boolean }) => Promise<OpenedStore<S>>;

export interface StoreServiceDefinition<S extends { close(): Promise<void> }> {
  name: string;
  open: StoreOpener<S>;
  compose(runtime: ServiceRuntime & OpenedStore<S>): ServiceComposition | Promise<ServiceComposition>;
}

/** A service that keeps tables: `runService` plus its store (opened after the bus), a `postgres` check, and both closed at shutdown. */
export function runStoreService<S extends { close(): Promise<void> }>(start: ServiceStart, definition: StoreServiceDefinition<S>, options: RunServiceOptions = {}): Promise<ServiceHandle> {
  return runService(
    start,
    {
      name: definition.name,
      compose: async (runtime) => {
        const { store, dataSource } = await definition.open(databaseConfigOf(runtime.config), { migrate: runtime.config.WEFT_MIGRATE });
        const composition = await definition.compose({ ...runtime, store, dataSource });
        return {
          ...composition,
          health: [{ name: 'postgres', check: async () => (await dataSource.query('select 1'), { ok: true }) }, ...(composition.health ?? [])],
          closing: [...(composition.closing ?? []), () => store.close(), () => dataSource.destroy()],
        };
      },
    },
    options,
  );
}
