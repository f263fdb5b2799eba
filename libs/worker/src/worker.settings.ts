import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { DEFAULT_MAX_PAYLOAD_BYTES } from '@weft/contracts';
import { WorkerConfigError } from './action.errors';
import { ALL_QUEUES, WORKER_DEFAULTS, type WorkerOptions } from './worker.options';

const QUEUE_NAME = /^[a-z0-9][a-z0-9_-]*$/;

/** A worker's options with their defaults applied, checked once at construction. */
export interface WorkerSettings {
  workerId: string;
  queues: string[];
  concurrency: number;
  prefetch: number;
  heartbeatIntervalMs: number;
  startedReportDelayMs: number;
  shutdownGraceMs: number;
  resultRetryMs: number;
  maxPayloadBytes: number;
}

/** Applies the defaults; a setting out of range throws WorkerConfigError naming it. */
export function resolveWorkerSettings(options: WorkerOptions): WorkerSettings {
  const queues = [...new Set(options.queues)];
  const concurrency = options.concurrency ?? WORKER_DEFAULTS.concurrency;
  const prefetch = options.prefetch ?? concurrency;
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? WORKER_DEFAULTS.heartbeatIntervalMs;
  const startedReportDelayMs = options.startedReportDelayMs ?? Math.min(WORKER_DEFAULTS.startedReportDelayMs, heartbeatIntervalMs / 2);
  const shutdownGraceMs = options.shutdownGraceMs ?? WORKER_DEFAULTS.shutdownGraceMs;
  const resultRetryMs = options.resultRetryMs ?? WORKER_DEFAULTS.resultRetryMs;
  const maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  const workerId = options.workerId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  if (queues.length === 0) throw new WorkerConfigError('a worker needs at least one queue');
  const badQueue = queues.find((q) => q !== ALL_QUEUES && !QUEUE_NAME.test(q));
  if (badQueue !== undefined) throw new WorkerConfigError(`invalid queue name "${badQueue}": lower-case letters, digits, _ and -, or * for every queue`);
  if (queues.includes(ALL_QUEUES) && queues.length > 1) throw new WorkerConfigError('queue * already serves every queue; list it alone');
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new WorkerConfigError(`concurrency must be a positive integer, got ${concurrency}`);
  if (!Number.isInteger(prefetch) || prefetch < 0) throw new WorkerConfigError(`prefetch must be an integer >= 0, got ${prefetch}`);
  if (!(heartbeatIntervalMs > 0)) throw new WorkerConfigError(`heartbeatIntervalMs must be positive, got ${heartbeatIntervalMs}`);
  if (!(startedReportDelayMs >= 0 && startedReportDelayMs <= heartbeatIntervalMs / 2)) {
    throw new WorkerConfigError(`startedReportDelayMs must be between 0 and half of heartbeatIntervalMs (${heartbeatIntervalMs / 2}), got ${startedReportDelayMs}`);
  }
  if (!(shutdownGraceMs >= 0)) throw new WorkerConfigError(`shutdownGraceMs must be >= 0, got ${shutdownGraceMs}`);
  if (!(resultRetryMs >= 0)) throw new WorkerConfigError(`resultRetryMs must be >= 0, got ${resultRetryMs}`);
  return { workerId, queues, concurrency, prefetch, heartbeatIntervalMs, startedReportDelayMs, shutdownGraceMs, resultRetryMs, maxPayloadBytes };
}
