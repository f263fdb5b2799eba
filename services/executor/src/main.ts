import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { JetStreamBus } from '@weft/bus';
import { ConfigError, listOf, loadConfig, queuesOf } from '@weft/config';
import { bootService, HealthModule, ShutdownModule } from '@weft/platform';
import { type ActionDefinition, builtinActions, loadActionsModule } from '@weft/worker';
import { ExecutorModule } from './executor.module';

/** An executor process: serves WEFT_QUEUES with the built-in actions plus WEFT_ACTIONS modules. */
export async function main(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const config = loadConfig(env);
  if (!config.NATS_URL) throw new ConfigError([{ variable: 'NATS_URL', message: 'required for the executor service' }]);
  let actions: ActionDefinition[] = builtinActions();
  for (const path of listOf(config.WEFT_ACTIONS)) actions = [...actions, ...(await loadActionsModule(path))];
  const bus = await JetStreamBus.connect({
    servers: config.NATS_URL.split(','),
    name: 'weft-executor',
    prefix: config.WEFT_NATS_PREFIX,
    ...(config.WEFT_NATS_PULL_EXPIRES_MS !== undefined && { pullExpiresMs: config.WEFT_NATS_PULL_EXPIRES_MS }),
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
      }),
      HealthModule.forRoot([{ name: 'nats', check: () => bus.health() }]),
      ShutdownModule.closing(() => bus.close()),
    ],
  })
  class ExecutorAppModule {}

  const service = await bootService(ExecutorAppModule, { name: 'executor', port: config.PORT, host: config.HOST });
  process.stdout.write(`weft executor serving ${config.WEFT_QUEUES} on ${service.url}\n`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
