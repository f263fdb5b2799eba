import { ConfigError, loadConfig } from '@weft/config';
import { startTracing } from '@weft/telemetry';

/**
 * An executor process: serves WEFT_QUEUES with the built-in actions plus WEFT_ACTIONS modules.
 * Tracing starts before the application (and the user's action modules) are loaded:
 * OpenTelemetry patches http and friends as they are required.
 */
export async function main(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const config = loadConfig(env);
  const natsUrl = config.NATS_URL;
  if (!natsUrl) throw new ConfigError([{ variable: 'NATS_URL', message: 'required for the executor service' }]);
  const tracing = await startTracing({ serviceName: 'weft-executor', env });
  // require, not import(): it must run now, after startTracing, and a relative import() needs a file extension under node16 resolution.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { runExecutor } = require('./executor.app') as typeof import('./executor.app');
  await runExecutor({ ...config, NATS_URL: natsUrl }, tracing);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
