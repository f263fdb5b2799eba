import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { JetStreamBus } from '@weft/bus';
import { listOf, queuesOf, type WeftConfig } from '@weft/config';
import { bootService, createLogger, HealthModule, ShutdownModule } from '@weft/platform';
import type { Tracing } from '@weft/telemetry';
import { type ActionDefinition, builtinActions, loadActionsModule } from '@weft/worker';
import { ExecutorModule } from './executor.module';

/** The executor process once tracing is up (see main.ts): loads actions, serves its queues until SIGTERM. */
export async function runExecutor(config: WeftConfig & { NATS_URL: string }, tracing: Tracing): Promise<void> {
  const logger = createLogger({ level: config.LOG_LEVEL, service: 'executor' });
  let actions: ActionDefinition[] = builtinActions();
  for (const path of listOf(config.WEFT_ACTIONS)) actions = [...actions, ...(await loadActionsModule(path))];
  const bus = await JetStreamBus.connect({
    servers: config.NATS_URL.split(','),
    name: 'weft-executor',
    prefix: config.WEFT_NATS_PREFIX,
    replicas: config.WEFT_NATS_REPLICAS,
    ...(config.WEFT_NATS_PULL_EXPIRES_MS !== undefined && { pullExpiresMs: config.WEFT_NATS_PULL_EXPIRES_MS }),
    onError: (error, context) => logger.error(context, { error }),
  });

  @Module({
    imports: [
      ExecutorModule.forRoot({
        bus,
        queues: queuesOf(config),
        actions,
        concurrency: config.WEFT_CONCURRENCY,
        shutdownGraceMs: config.WEFT_SHUTDOWN_GRACE_MS,
        heartbeatIntervalMs: config.WEFT_HEARTBEAT_MS,
        // Handlers' ctx.logger lines carry run, step, attempt and trace ids.
        logger,
      }),
      HealthModule.forRoot([{ name: 'nats', check: () => bus.health() }]),
      // Spans go last: the drain's own spans are exported too.
      ShutdownModule.closing(() => bus.close(), () => tracing.shutdown()),
    ],
  })
  class ExecutorAppModule {}

  const service = await bootService(ExecutorAppModule, { name: 'executor', port: config.PORT, host: config.HOST, logger });
  logger.info('executor serving', { queues: queuesOf(config), url: service.url, tracing: tracing.enabled });
  process.stdout.write(`weft executor serving ${config.WEFT_QUEUES} on ${service.url}\n`);
}
