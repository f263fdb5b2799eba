import { ConfigError, loadConfig } from '@weft/config';
import { startTracing } from '@weft/telemetry';

/**
 * The journal as its own process: NATS_URL and DATABASE_URL are required.
 * Tracing starts before the application loads: OpenTelemetry patches http, Nest and pg as they are required.
 */
export async function main(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const config = loadConfig(env);
  const natsUrl = config.NATS_URL;
  if (!natsUrl) throw new ConfigError([{ variable: 'NATS_URL', message: 'required for the journal service (use `weft dev` for embedded mode)' }]);
  if (!config.DATABASE_URL) throw new ConfigError([{ variable: 'DATABASE_URL', message: 'required for the journal service (use `weft dev` for embedded mode)' }]);
  const tracing = await startTracing({ serviceName: 'weft-journal', env });
  // require, not import(): it must run now, after startTracing, and a relative import() needs a file extension under node16 resolution.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { runJournal } = require('./journal.app') as typeof import('./journal.app');
  await runJournal({ ...config, NATS_URL: natsUrl }, env, tracing);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
