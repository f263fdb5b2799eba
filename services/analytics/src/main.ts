import { runAsEntryPoint, serviceMain } from '@weft/telemetry';

/**
 * Analytics as its own process: NATS_URL and DATABASE_URL are required.
 * Tracing starts before the application loads (serviceMain): nothing that loads http, Nest or pg is imported here.
 */
export const main = serviceMain({
  name: 'analytics',
  requires: ['NATS_URL', 'DATABASE_URL'],
  // require, not import(): it must run after startTracing, and a relative import() needs a file extension under node16 resolution.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  load: () => (require('./analytics.app') as typeof import('./analytics.app')).runAnalytics,
});

runAsEntryPoint(module, () => main());
