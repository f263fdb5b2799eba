import 'reflect-metadata';
import { ConsoleModule, consoleDistDir, runStoreService, type RunServiceOptions, type ServiceHandle } from '@weft/platform';
import type { ServiceStart } from '@weft/telemetry';
import { openSqlRunStore } from './persistence';
import { blobsOf } from '@weft/db';
import { SqlSlotStore } from './persistence/sql-slot.store';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ApiModule, storedWorkflowCatalog, templatesFromDirectory } from './api';
import { SchedulerModule } from './scheduler.module';

/** The scheduler process once tracing is up (see main.ts): connects, migrates, serves until SIGTERM. */
export function runScheduler(start: ServiceStart, options: RunServiceOptions = {}): Promise<ServiceHandle> {
  const { config } = start;
  return runStoreService(
    start,
    {
      name: 'scheduler',
      open: (database, { migrate }) =>
        openSqlRunStore(database, { migrate, ...(config.WEFT_OUTBOX_CLAIM_MS !== undefined && { outboxClaimMs: config.WEFT_OUTBOX_CLAIM_MS }) }),
      compose: ({ bus, store, dataSource, logger }) => {
        // The SDK's template files, unless WEFT_TEMPLATES_DIR names others (the service cannot import the SDK's code).
        const shipped = join(__dirname, '..', '..', '..', 'libs', 'sdk', 'templates');
        const templatesDir = config.WEFT_TEMPLATES_DIR ?? (existsSync(shipped) ? shipped : undefined);
        const crashBeforePublish = (): void => {
          process.stderr.write('WEFT_TEST_CRASH_AFTER_COMMIT: exiting between commit and publish\n');
          process.exit(86);
        };
        // Large payloads: the blobs table, or WEFT_BLOB_URL's bucket with the table as its index.
        const blobs = blobsOf(dataSource, config);
        const scheduler = SchedulerModule.forRoot({
          bus,
          store,
          // Run requests over the bus that name a stored workflow start its published version.
          catalog: storedWorkflowCatalog(dataSource),
          pollIntervalMs: config.WEFT_POLL_INTERVAL_MS,
          leaseMs: config.WEFT_LEASE_MS,
          maxPayloadBytes: config.WEFT_MAX_PAYLOAD,
          maxForEachItems: config.WEFT_MAX_FOREACH_ITEMS,
          maxRunDepth: config.WEFT_MAX_RUN_DEPTH,
          sharedWindow: config.WEFT_SHARED_WINDOW,
          signalRetentionMs: config.WEFT_SIGNAL_RETENTION,
          outboxRetention: { retentionMs: config.WEFT_OUTBOX_RETENTION, intervalMs: config.WEFT_OUTBOX_PRUNE_INTERVAL },
          blobs: blobs.store,
          inlinePayloadBytes: config.WEFT_INLINE_PAYLOAD_MAX,
          maxOutputBytes: config.WEFT_MAX_OUTPUT,
          blobSweep: { sweep: blobs.sweep, graceMs: config.WEFT_BLOB_SWEEP_GRACE },
          slots: new SqlSlotStore(dataSource),
          logger,
          ...(config.WEFT_TEST_CRASH_AFTER_COMMIT && { beforePublish: crashBeforePublish }),
        });
        // The control-plane API; a service always wants API keys (only `weft dev` on loopback goes without).
        const api = ApiModule.forRoot({
          bus,
          store,
          dataSource,
          scheduler,
          blobs: blobs.store,
          auth: { anonymous: false, ...(config.WEFT_ADMIN_KEY !== undefined && { adminKey: config.WEFT_ADMIN_KEY }) },
          ...(templatesDir !== undefined && { templates: templatesFromDirectory(templatesDir) }),
          specLimits: { maxSteps: config.WEFT_MAX_STEPS },
          stuckAfterMs: config.WEFT_STUCK_AFTER,
          logger,
        });
        // The web console's build at / (the Ingress routes / here); its API calls come back to /v1.
        return { imports: [scheduler, api, ConsoleModule.serve(consoleDistDir())], bodyLimit: config.WEFT_API_BODY_LIMIT };
      },
    },
    options,
  );
}
