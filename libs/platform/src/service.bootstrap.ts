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
  if (options.handleSignals !== false) app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  await app.listen(options.port, options.host);
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return { app, url: `http://${options.host}:${port}`, close: () => app.close() };
}
