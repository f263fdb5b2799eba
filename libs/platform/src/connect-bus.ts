import { JetStreamBus } from '@weft/bus';
import { requireVariable, type WeftConfig } from '@weft/config';
import type { WeftLogger } from './logger.factory';

/**
 * The one way a Weft process connects to NATS: NATS_URL, WEFT_NATS_PREFIX, WEFT_NATS_REPLICAS
 * and WEFT_NATS_PULL_EXPIRES_MS from the config, and failures nobody awaits (recoveries,
 * throwing listeners) logged rather than printed. `name` is the connection name the
 * server shows (`weft-scheduler`). Throws ConfigError when NATS_URL is unset.
 */
export function connectBus(config: WeftConfig, name: string, logger: Pick<WeftLogger, 'error'>): Promise<JetStreamBus> {
  const servers = requireVariable(config, 'NATS_URL', `${name} connects to NATS: set NATS_URL (e.g. nats://127.0.0.1:4222)`);
  return JetStreamBus.connect({
    servers: servers.split(','),
    name,
    prefix: config.WEFT_NATS_PREFIX,
    replicas: config.WEFT_NATS_REPLICAS,
    ...(config.WEFT_NATS_PULL_EXPIRES_MS !== undefined && { pullExpiresMs: config.WEFT_NATS_PULL_EXPIRES_MS }),
    onError: (error, context) => logger.error(context, { error }),
  });
}
