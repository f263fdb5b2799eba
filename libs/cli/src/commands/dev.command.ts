import { ConfigError, listOf, loadConfig } from '@weft/config';
import { bootService, createLogger } from '@weft/platform';
import { type ActionDefinition, loadActionsModule } from '@weft/worker';
import { composeDev } from '../dev/compose';
import { portInUse } from '../dev/port.util';
import { EXIT } from '../exit-codes';
import type { Io } from '../io';

export interface DevOptions {
  port?: string;
  actions: string[];
}

/** `weft dev`: every service in this process, until SIGINT/SIGTERM. */
export async function devCommand(options: DevOptions, io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let config;
  try {
    config = loadConfig({ ...env, ...(options.port !== undefined && { PORT: options.port }) });
  } catch (error) {
    if (error instanceof ConfigError) {
      io.err(error.message);
      return EXIT.invalid;
    }
    throw error;
  }
  if (await portInUse(config.HOST, config.PORT)) {
    io.err(`port ${config.PORT} is in use; pass --port`);
    return EXIT.invalid;
  }
  const actions: ActionDefinition[] = [];
  for (const path of [...listOf(config.WEFT_ACTIONS), ...options.actions]) actions.push(...(await loadActionsModule(path)));
  // Readable lines in a terminal, JSON when piped to a file or a log shipper.
  const logger = createLogger({ level: config.LOG_LEVEL, service: 'dev', pretty: process.stdout.isTTY === true });
  const composition = await composeDev(config, actions, logger);
  const service = await bootService(composition.module, {
    name: 'dev',
    port: config.PORT,
    host: config.HOST,
    handleSignals: false,
    logger,
    bodyLimit: config.WEFT_API_BODY_LIMIT,
    shutdownGraceMs: config.WEFT_SHUTDOWN_GRACE_MS,
    // Webhook signatures are over the exact bytes received (POST /v1/hooks/...).
    rawBody: true,
  });
  io.out(`weft dev: all services in one process on ${composition.description}`);
  io.out(`listening on ${service.url} (console: ${service.url}/, API: ${service.url}/v1, OpenAPI: ${service.url}/openapi.json, health: ${service.url}/health/ready, metrics: ${service.url}/metrics)`);
  // The line to paste into another shell: every --api verb (and the SDK's examples) read it.
  io.out(`export WEFT_API_URL=${service.url}`);
  io.out(
    composition.anonymous
      ? 'loopback only: the API takes requests without a key (namespace default); keys still work'
      : `bound to ${config.HOST}: every API request needs a key (weft keys create --namespace <name>)`,
  );
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      io.out('stopping: draining consumers and in-flight steps…');
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  if ((await service.closeBounded()) === 'timed-out') {
    // Something (a publish that never completes) still holds on: the grace is the bound, whatever it is doing.
    io.err(`still draining after WEFT_SHUTDOWN_GRACE_MS (${config.WEFT_SHUTDOWN_GRACE_MS} ms); exiting anyway (committed outbox rows are sent at the next start)`);
    process.exit(EXIT.internal);
  }
  return EXIT.ok;
}
