import { runAsEntryPoint, serviceMain } from '@weft/telemetry';

/**
 * The scheduler as its own process: NATS_URL is required (DATABASE_URL too, in a deployment).
 * Tracing starts before the application loads (serviceMain): OpenTelemetry patches http,
 * express, Nest and pg as they are required, so nothing that loads them may be imported here.
 */
export const main = serviceMain({
  name: 'scheduler',
  requires: ['NATS_URL'],
  // require, not import(): it must run after startTracing, and a relative import() needs a file extension under node16 resolution.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  load: () => (require('./scheduler.app') as typeof import('./scheduler.app')).runScheduler,
});

runAsEntryPoint(module, () => main());
