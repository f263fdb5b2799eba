/**
 * The executor of weft-distributed in a process of its own, as deployed (the scheduler is
 * the system child): a JetStreamBus on the install's prefix and createWorker with the
 * built-in actions. Says `ready` over IPC once it serves; stops its worker (grace 200 ms)
 * and exits when the parent disconnects or sends `stop`.
 *
 *   fork('bench/executor.child.ts', [prefix, concurrency])
 */
import { JetStreamBus } from '@weft/bus';
import { builtinActions, createWorker, silentLogger } from '@weft/worker';
import { NATS_URL } from './systems/weft.system';

async function main(): Promise<void> {
  const [prefix = '', concurrency = '16'] = process.argv.slice(2);
  if (!prefix) throw new Error('usage: executor.child.ts <prefix> [concurrency]');
  const bus = await JetStreamBus.connect({ servers: NATS_URL, prefix, name: 'bench-executor' });
  // WEFT_PREFETCH as the executor app reads it (unset: the worker's default).
  const prefetch = process.env['WEFT_PREFETCH'];
  const worker = createWorker({
    bus,
    queues: ['default'],
    actions: builtinActions(),
    concurrency: Number(concurrency),
    ...(prefetch !== undefined && prefetch !== '' && { prefetch: Number(prefetch) }),
    logger: silentLogger,
    shutdownGraceMs: 200,
  });
  await worker.start();
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await worker.stop();
      await bus.close();
      process.exit(0);
    })());
  process.on('message', (message: unknown) => {
    if (message === 'stop') void stop();
  });
  process.on('disconnect', () => void stop());
  process.send?.('ready');
}

main().catch((error: unknown) => {
  console.error('executor child:', error);
  process.exit(1);
});
