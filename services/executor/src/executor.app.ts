import 'reflect-metadata';
import { listOf, queuesOf } from '@weft/config';
import { runService, type RunServiceOptions, type ServiceHandle } from '@weft/platform';
import type { ServiceStart } from '@weft/telemetry';
import { type ActionDefinition, builtinActions, httpPolicyOf, loadActionsModule } from '@weft/worker';
import { ExecutorModule } from './executor.module';

/** The executor process once tracing is up (see main.ts): loads actions, serves its queues until SIGTERM. */
export function runExecutor(start: ServiceStart, options: RunServiceOptions = {}): Promise<ServiceHandle> {
  return runService(
    start,
    {
      name: 'executor',
      compose: async ({ config, bus, logger }) => {
        let actions: ActionDefinition[] = builtinActions({ http: httpPolicyOf(config) });
        for (const path of listOf(config.WEFT_ACTIONS)) actions = [...actions, ...(await loadActionsModule(path))];
        const executor = ExecutorModule.forRoot({
          bus,
          queues: queuesOf(config),
          actions,
          concurrency: config.WEFT_CONCURRENCY,
          shutdownGraceMs: config.WEFT_SHUTDOWN_GRACE_MS,
          heartbeatIntervalMs: config.WEFT_HEARTBEAT_MS,
          maxPayloadBytes: config.WEFT_MAX_PAYLOAD,
          // Handlers' ctx.logger lines carry run, step, attempt and trace ids.
          logger,
        });
        return { imports: [executor], doing: `serving ${config.WEFT_QUEUES}`, fields: { queues: queuesOf(config) } };
      },
    },
    options,
  );
}
