import { ConfigError, databaseConfigOf, listOf, loadConfig } from '@weft/config';
import { blobsOf, createDataSource } from '@weft/db';
import { connectBus, createLogger } from '@weft/platform';
import { type ActionDefinition, builtinActions, createWorker, httpPolicyOf, loadActionsModule } from '@weft/worker';
import { EXIT } from '../exit-codes';
import type { Io } from '../io';

export interface WorkerOptions {
  actions: string[];
  queue: string[];
  concurrency?: string;
}

/** `weft worker`: an executor process with your actions, on NATS_URL, until SIGINT/SIGTERM. */
export async function workerCommand(options: WorkerOptions, io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let config;
  try {
    config = loadConfig({
      ...env,
      ...(options.concurrency !== undefined && { WEFT_CONCURRENCY: options.concurrency }),
      ...(options.queue.length > 0 && { WEFT_QUEUES: options.queue.join(',') }),
    });
    if (!config.NATS_URL) throw new ConfigError([{ variable: 'NATS_URL', message: 'a worker joins a deployment: set NATS_URL (e.g. nats://127.0.0.1:4222)' }]);
  } catch (error) {
    if (error instanceof ConfigError) {
      io.err(error.message);
      return EXIT.invalid;
    }
    throw error;
  }
  const actions: ActionDefinition[] = [...builtinActions({ http: httpPolicyOf(config) })];
  for (const path of [...listOf(config.WEFT_ACTIONS), ...options.actions]) actions.push(...(await loadActionsModule(path)));
  // The bus's own failures as log lines; handlers keep the worker's console logger.
  const logger = createLogger({ level: config.LOG_LEVEL, service: 'worker' });
  const bus = await connectBus(config, 'weft-worker', logger);
  const queues = config.WEFT_QUEUES.split(',');
  // With DATABASE_URL, outputs over WEFT_INLINE_PAYLOAD_MAX go to the scheduler's blobs table by reference (docs/persistence.md).
  const blobDb = config.DATABASE_URL === undefined ? undefined : await createDataSource(databaseConfigOf(config), { migrations: [] });
  const worker = createWorker({
    bus,
    queues,
    actions,
    concurrency: config.WEFT_CONCURRENCY,
    ...(config.WEFT_PREFETCH !== undefined && { prefetch: config.WEFT_PREFETCH }),
    shutdownGraceMs: config.WEFT_SHUTDOWN_GRACE_MS,
    heartbeatIntervalMs: config.WEFT_HEARTBEAT_MS,
    maxPayloadBytes: config.WEFT_MAX_PAYLOAD,
    ...(blobDb && { blobs: { store: blobsOf(blobDb, config).store, inlinePayloadBytes: config.WEFT_INLINE_PAYLOAD_MAX, maxOutputBytes: config.WEFT_MAX_OUTPUT } }),
  });
  await worker.start();
  io.out(`weft worker: queues ${queues.join(', ')}; actions ${actions.map((a) => a.name).join(', ')}`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  io.out(`stopping: ${worker.inFlight()} step(s) in flight`);
  await worker.stop();
  await bus.close();
  await blobDb?.destroy();
  return EXIT.ok;
}
