import { runAsEntryPoint, serviceMain } from '@weft/telemetry';

/**
 * The triggers service as its own process: NATS_URL and DATABASE_URL are required (it shares
 * the scheduler's database: it reads published versions and runs there).
 * Tracing starts before the application loads (serviceMain): nothing that loads http, Nest or pg is imported here.
 */
export const main = serviceMain({
  name: 'triggers',
  requires: ['NATS_URL', 'DATABASE_URL'],
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  load: () => (require('./triggers.app') as typeof import('./triggers.app')).runTriggers,
});

runAsEntryPoint(module, () => main());
