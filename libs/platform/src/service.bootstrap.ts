import type { DynamicModule, INestApplication, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';

export interface ServiceHandle {
  app: INestApplication;
  url: string;
  close(): Promise<void>;
}

/**
 * Boots a Nest HTTP application for a service and wires SIGTERM/SIGINT to a
 * graceful close (consumers drain, in-flight steps finish, then exit 0).
 */
export async function bootService(module: Type | DynamicModule, options: { port: number; host: string; name: string; handleSignals?: boolean }): Promise<ServiceHandle> {
  const app = await NestFactory.create(module, { logger: ['error', 'warn'], bodyParser: true });
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
