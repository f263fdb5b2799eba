import 'reflect-metadata';
import { requireVariable } from '@weft/config';
import { Authenticator, runStoreService, type RunServiceOptions, type ServiceHandle, SqlApiKeyRepository } from '@weft/platform';
import type { ServiceStart } from '@weft/telemetry';
import { openTriggerStore } from './persistence/sql-trigger.store';
import type { Clock } from './ports/clock.port';
import type { PollFetch } from './ports/http-fetch.port';
import type { LeaderOptions } from './runtime/leader.loop';
import { MAX_HOOK_BODY_BYTES } from './transport/hooks.controller';
import { TriggerHooksModule, TriggersModule, triggersParts } from './triggers.module';

export interface RunTriggersOptions extends RunServiceOptions {
  clock?: Clock;
  leader?: LeaderOptions;
  fetch?: PollFetch;
  /** The stream for trigger subjects no other stream stores. @default WEFT_TRIGGER_SUBJECTS */
  subjectStream?: string;
  env?: NodeJS.ProcessEnv;
}

/** The triggers process once tracing is up (see main.ts). */
export function runTriggers(start: ServiceStart, options: RunTriggersOptions = {}): Promise<ServiceHandle> {
  return runStoreService(
    start,
    {
      name: 'triggers',
      open: openTriggerStore,
      compose: ({ config, bus, store, dataSource, logger }) => {
        const servers = requireVariable(config, 'NATS_URL', 'the triggers service reads subjects from NATS: set NATS_URL').split(',');
        const auth = new Authenticator(new SqlApiKeyRepository(dataSource), { anonymous: false });
        const moduleOptions = {
          bus,
          store,
          auth,
          logger,
          fireRetention: { retentionMs: config.WEFT_TRIGGER_FIRE_RETENTION, intervalMs: config.WEFT_TRIGGER_PRUNE_INTERVAL },
          subjects: { servers, ...(config.WEFT_NATS_PREFIX ? { prefix: config.WEFT_NATS_PREFIX } : {}), ...(options.subjectStream ? { stream: options.subjectStream } : {}) },
          ...(options.clock && { clock: options.clock }),
          ...(options.leader && { leader: options.leader }),
          ...(options.fetch && { fetch: options.fetch }),
          ...(options.env && { env: options.env }),
        };
        const parts = triggersParts(moduleOptions);
        const module = TriggersModule.forRoot(moduleOptions, parts);
        return {
          imports: [module, TriggerHooksModule.forRoot(parts)],
          health: [TriggersModule.readiness(module), TriggersModule.leadership(parts)],
          rawBody: true,
          bodyLimit: `${MAX_HOOK_BODY_BYTES}b`,
          fields: { holder: parts.leader.holder },
        };
      },
    },
    { ...(options.handleSignals === false && { handleSignals: false }) },
  );
}
