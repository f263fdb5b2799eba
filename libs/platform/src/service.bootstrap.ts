import { type DynamicModule, type INestApplication, Module, type Type } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ExpressAdapter, NestExpressApplication } from '@nestjs/platform-express';
import { byteSize, guardServer, requestGuard, type RouteLayer, verifyJsonBody } from './http-guards';
import { nestLogger, type WeftLogger } from './logger.factory';
import { MetricsModule } from './metrics.module';

export interface ServiceHandle {
  app: INestApplication;
  url: string;
  /** Closes the app; gives up waiting after `shutdownGraceMs` (see closeBounded). */
  close(): Promise<void>;
  /**
   * Closes the app, waiting at most `shutdownGraceMs` (plus a second for the connections):
   * `'closed'`, or `'timed-out'` when something (a publish that never completes) still holds
   * on; the caller then exits anyway (issue 12: Ctrl-C is bounded).
   */
  closeBounded(): Promise<CloseOutcome>;
}

export type CloseOutcome = 'closed' | 'timed-out';

/** WEFT_SHUTDOWN_GRACE_MS's default. */
export const DEFAULT_SHUTDOWN_GRACE_MS = 25_000;
/** What a close may take beyond the grace: closing connections once the drain gave up. */
const CLOSE_MARGIN_MS = 1_000;

export interface BootOptions {
  port: number;
  host: string;
  name: string;
  handleSignals?: boolean;
  /** Nest's own messages go here (its bootstrap chatter at debug). @default Nest's console logger, errors and warnings only */
  logger?: WeftLogger;
  /** Largest JSON request body (`1mb`, `512kb`); bigger ones get 413, a bigger declared Content-Length before it is read. @default 100kb */
  bodyLimit?: string;
  /** How long a close may take before it gives up waiting (WEFT_SHUTDOWN_GRACE_MS). @default 25000 */
  shutdownGraceMs?: number;
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

  // Loaded here: importing @weft/platform (its migrations, logger) does not load @nestjs/core.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { NestFactory } = require('@nestjs/core') as typeof import('@nestjs/core');
  const app = await NestFactory.create<NestExpressApplication>(ServiceRootModule, {
    logger: options.logger ? nestLogger(options.logger) : ['error', 'warn'],
    bodyParser: true,
    ...(options.rawBody === true && { rawBody: true }),
  });
  const bodyLimit = options.bodyLimit ?? '100kb';
  const adapter = app.getHttpAdapter() as unknown as ExpressAdapter;
  const express = adapter.getInstance() as { router: { stack: RouteLayer[] } };
  // Registered before listen(), so before Nest's routes and parsers: the guard first, then this JSON parser (it replaces Nest's).
  app.use(requestGuard({ bodyLimit: byteSize(bodyLimit), routes: () => express.router.stack }));
  // Through the adapter with rawBody false: Nest's own rawBody option would replace this verify hook, so it keeps the raw bytes itself.
  const keepRaw = options.rawBody === true;
  adapter.useBodyParser('json', false, {
    limit: bodyLimit,
    type: ['application/json', 'application/*+json'],
    verify: (request: IncomingMessage & { rawBody?: Buffer }, response: ServerResponse, body: Buffer, encoding: string) => {
      if (keepRaw) request.rawBody = body;
      verifyJsonBody(request, response, body, encoding);
    },
  });
  guardServer(app.getHttpServer(), byteSize(bodyLimit));
  await app.listen(options.port, options.host);
  const close = (): Promise<CloseOutcome> => closeWithin(app, options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS);
  if (options.handleSignals !== false) exitCleanlyOn(close, ['SIGTERM', 'SIGINT']);
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return { app, url: `http://${options.host}:${port}`, close: async () => void (await close()), closeBounded: close };
}

/**
 * `app.close()`, given up after the grace (plus a margin): a relay stuck on a publish, a
 * consumer that never drains, must not keep a stopping process alive. What was left
 * undone is safe to drop: outbox rows stay committed and are sent by the next relay.
 */
export async function closeWithin(app: Pick<INestApplication, 'close'>, graceMs: number): Promise<CloseOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<CloseOutcome>((resolve) => {
    timer = setTimeout(() => resolve('timed-out'), graceMs + CLOSE_MARGIN_MS);
    timer.unref();
  });
  try {
    return await Promise.race([app.close().then((): CloseOutcome => 'closed'), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Not Nest's enableShutdownHooks: after closing, it re-raises the signal, so a clean
 * shutdown ends with status 143 and Kubernetes (or a supervisor) sees a crash. Here a
 * finished close exits 0, a failed one 1; a second signal kills at once (the default action).
 */
function exitCleanlyOn(close: () => Promise<CloseOutcome>, signals: NodeJS.Signals[]): void {
  const onSignal = (): void => {
    for (const signal of signals) process.removeListener(signal, onSignal);
    close().then(
      (outcome) => {
        if (outcome === 'timed-out') process.stderr.write('shutdown: still draining after WEFT_SHUTDOWN_GRACE_MS; exiting anyway\n');
        process.exit(outcome === 'closed' ? 0 : 1);
      },
      (error: unknown) => {
        process.stderr.write(`shutdown failed: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(1);
      },
    );
  };
  for (const signal of signals) process.on(signal, onSignal);
}
