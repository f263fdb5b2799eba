import { type DynamicModule, type INestApplication, Module, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { nestLogger, type WeftLogger } from './logger.factory';
import { MetricsModule } from './metrics.module';

export interface ServiceHandle {
  app: INestApplication;
  url: string;
  close(): Promise<void>;
}

export interface BootOptions {
  port: number;
  host: string;
  name: string;
  handleSignals?: boolean;
  /** Nest's own messages go here (its bootstrap chatter at debug). @default Nest's console logger, errors and warnings only */
  logger?: WeftLogger;
  /** Largest JSON request body (`1mb`, `512kb`); bigger ones get 413. @default Nest's, 100kb */
  bodyLimit?: string;
  /** Keep each parsed body's exact bytes as `req.rawBody` (webhook signatures are over them). @default false */
  rawBody?: boolean;
}

/**
 * Boots a Nest HTTP application for a service, with `GET /metrics` mounted next to its
 * own routes, and wires SIGTERM/SIGINT to a graceful close (readiness fails, consumers
 * drain, in-flight steps finish, then exit 0).
 */
export async function bootService(module: Type | DynamicModule, options: BootOptions): Promise<ServiceHandle> {
  @Module({ imports: [module, MetricsModule] })
  class ServiceRootModule {}

  const app = await NestFactory.create<NestExpressApplication>(ServiceRootModule, {
    logger: options.logger ? nestLogger(options.logger) : ['error', 'warn'],
    bodyParser: true,
    ...(options.rawBody === true && { rawBody: true }),
  });
  // Registered before listen(), this parser replaces Nest's default JSON one.
  if (options.bodyLimit !== undefined) app.useBodyParser('json', { limit: options.bodyLimit, type: ['application/json', 'application/*+json'] });
  await app.listen(options.port, options.host);
  if (options.handleSignals !== false) exitCleanlyOn(app, ['SIGTERM', 'SIGINT']);
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return { app, url: `http://${options.host}:${port}`, close: () => app.close() };
}

/**
 * Not Nest's enableShutdownHooks: after closing, it re-raises the signal, so a clean
 * shutdown ends with status 143 and Kubernetes (or a supervisor) sees a crash. Here a
 * finished close exits 0, a failed one 1; a second signal kills at once (the default action).
 */
function exitCleanlyOn(app: INestApplication, signals: NodeJS.Signals[]): void {
  const onSignal = (): void => {
    for (const signal of signals) process.removeListener(signal, onSignal);
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`shutdown failed: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(1);
      },
    );
  };
  for (const signal of signals) process.on(signal, onSignal);
}
