import { runAsEntryPoint, serviceMain } from '@weft/telemetry';

/**
 * An executor process: serves WEFT_QUEUES with the built-in actions plus WEFT_ACTIONS modules; NATS_URL is required.
 * Tracing starts before the application (and the user's action modules) load (serviceMain):
 * nothing that loads http or Nest is imported here.
 */
export const main = serviceMain({
  name: 'executor',
  requires: ['NATS_URL'],
  // require, not import(): it must run after startTracing, and a relative import() needs a file extension under node16 resolution.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  load: () => (require('./executor.app') as typeof import('./executor.app')).runExecutor,
});

runAsEntryPoint(module, () => main());
