import 'reflect-metadata';
import { databaseConfigOf, listOf, queuesOf, type WeftConfig } from '@weft/config';
import { blobsOf, createDataSource } from '@weft/db';
import { runService, type RunServiceOptions, type ServiceHandle, ShutdownModule } from '@weft/platform';
import type { ServiceStart } from '@weft/telemetry';
import { type ActionDefinition, builtinActions, httpPolicyOf, loadActionsModule, type OutputBlobs } from '@weft/worker';
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
        const blobs = await outputBlobsOf(config);
        const executor = ExecutorModule.forRoot({
          bus,
          queues: queuesOf(config),
          actions,
          concurrency: config.WEFT_CONCURRENCY,
          ...(config.WEFT_PREFETCH !== undefined && { prefetch: config.WEFT_PREFETCH }),
          shutdownGraceMs: config.WEFT_SHUTDOWN_GRACE_MS,
          heartbeatIntervalMs: config.WEFT_HEARTBEAT_MS,
          maxPayloadBytes: config.WEFT_MAX_PAYLOAD,
          ...(blobs && { blobs: blobs.blobs }),
          // Handlers' ctx.logger lines carry run, step, attempt and trace ids.
          logger,
        });
        return { imports: [executor, ...(blobs ? [ShutdownModule.closing(blobs.close)] : [])], doing: `serving ${config.WEFT_QUEUES}`, fields: { queues: queuesOf(config) } };
      },
    },
    options,
  );
}

/**
 * With DATABASE_URL the executor writes large outputs (over WEFT_INLINE_PAYLOAD_MAX) straight to the
 * scheduler's blobs table (it never migrates: the scheduler owns the table); without it every output
 * is bounded by WEFT_MAX_PAYLOAD, as before (docs/persistence.md, "Large payloads by reference").
 */
async function outputBlobsOf(config: WeftConfig): Promise<{ blobs: OutputBlobs; close: () => Promise<void> } | undefined> {
  if (config.DATABASE_URL === undefined) return undefined;
  const dataSource = await createDataSource(databaseConfigOf(config), { migrations: [] });
  return {
    blobs: { store: blobsOf(dataSource, config).store, inlinePayloadBytes: config.WEFT_INLINE_PAYLOAD_MAX, maxOutputBytes: config.WEFT_MAX_OUTPUT },
    close: () => dataSource.destroy(),
  };
}
