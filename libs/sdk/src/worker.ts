import { JetStreamBus } from '@weft/bus';
import { type ActionDefinition, builtinActions, createWorker, type Worker } from '@weft/worker';

export interface StartWorkerOptions {
  /** NATS servers of the deployment, e.g. `nats://127.0.0.1:4222`. */
  natsUrl: string | string[];
  /** The deployment's WEFT_NATS_PREFIX, when it sets one. */
  prefix?: string;
  /** Task queues to serve. @default ['default'] */
  queues?: string[];
  /** Your handlers; the built-in actions are added unless `builtins: false`. */
  actions: ActionDefinition[];
  builtins?: boolean;
  /** Steps run at once. @default 8 */
  concurrency?: number;
}

export interface RunningWorker {
  worker: Worker;
  /** Stops pulling, lets in-flight steps finish (or hands them back), closes the connection. */
  stop(): Promise<void>;
}

/**
 * Joins a deployment as an executor with handlers registered in code:
 * the same runtime as `weft worker --actions`, without a separate process.
 */
export async function startWorker(options: StartWorkerOptions): Promise<RunningWorker> {
  const servers = Array.isArray(options.natsUrl) ? options.natsUrl : options.natsUrl.split(',');
  const bus = await JetStreamBus.connect({ servers, name: 'weft-sdk-worker', prefix: options.prefix });
  const actions = options.builtins === false ? options.actions : [...builtinActions(), ...options.actions];
  const worker = createWorker({ bus, queues: options.queues ?? ['default'], actions, concurrency: options.concurrency });
  try {
    await worker.start();
  } catch (error) {
    await bus.close();
    throw error;
  }
  return {
    worker,
    async stop() {
      await worker.stop();
      await bus.close();
    },
  };
}
