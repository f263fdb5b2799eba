import { ConfigError, loadConfig } from '@weft/config';
import { startTracing } from '@weft/telemetry';

/**
 * The scheduler as its own process: NATS_URL and DATABASE_URL are required.
 * Tracing starts before the application is loaded: OpenTelemetry patches http, express,
 * Nest and pg as they are required, so nothing that loads them may be imported above.
 */
export async function main(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const config = loadConfig(env);
  const natsUrl = config.NATS_URL;
  if (!natsUrl) throw new ConfigError([{ variable: 'NATS_URL', message: 'required for the scheduler service (use `weft dev` for embedded mode)' }]);
  const tracing = await startTracing({ serviceName: 'weft-scheduler', env });
  // require, not import(): it must run now, after startTracing, and a relative import() needs a file extension under node16 resolution.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { runScheduler } = require('./scheduler.app') as typeof import('./scheduler.app');
  await runScheduler({ ...config, NATS_URL: natsUrl }, env, tracing);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
