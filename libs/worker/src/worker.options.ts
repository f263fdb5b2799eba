import { type Bus } from '@weft/bus';
import { type StepError } from '@weft/contracts';
import { type ActionRegistry } from './action.registry';
import type { ActionDefinition, ActionLogger } from './action.types';
import { type OutputBlobs } from './step-outcome.util';

// The worker's public surface: its options, its events and its handle (createWorker is in worker.ts).

export interface WorkerOptions {
  bus: Bus;
  /**
   * Task queues to serve; each is consumed as `weft.step.dispatch.<queue>` with group `executor-<queue>`.
   * `*` serves every queue (group `executor-all`; embedded mode): do not mix it with per-queue workers on one bus.
   */
  queues: string[];
  actions: ActionDefinition[] | ActionRegistry;
  /** Steps running at once, across all queues. @default 8 */
  concurrency?: number;
  /**
   * Dispatches each queue's subscription holds beyond `concurrency`, waiting for a slot (kept
   * alive with the broker meanwhile). When a slot frees, the waiting dispatches' runs take turns,
   * so a run with many steps in flight does not keep another run's step waiting behind all of
   * them in the queue (issue 15). 0 pulls only for free slots, in queue order: with long steps
   * and several replicas, a dispatch held here waits for this replica's slot while another
   * replica may be idle. @default concurrency
   */
  prefetch?: number;
  /** Reported in heartbeats and results. @default `<hostname>:<pid>:<random>` */
  workerId?: string;
  /** How often a running step sends a progress heartbeat and extends its delivery. @default 10000 */
  heartbeatIntervalMs?: number;
  /**
   * How long a step runs before its `started` heartbeat is sent (ms). A step that finishes
   * sooner sends no heartbeat at all: its result (carrying `startedAt`) is its only message, and
   * the scheduler applies it as started and finished in one transaction. A handler calling
   * `ctx.heartbeat()` sends the started heartbeat at once. 0 sends it before the handler runs.
   * At most half of `heartbeatIntervalMs` (the scheduler's lease must stay well above that).
   * @default 20, or half of `heartbeatIntervalMs` when that is less
   */
  startedReportDelayMs?: number;
  /** How long stop() lets in-flight steps finish before aborting them and handing them back. @default 30000 */
  shutdownGraceMs?: number;
  /**
   * How long a finished step keeps retrying a result the broker would not take (NATS unreachable,
   * a publish timing out) before it is handed back to run again. Retries back off from 100 ms to
   * 5 s, keep the same message id and keep heartbeating; a stop() past its grace period, or a
   * cancel of the attempt by the scheduler, ends them sooner. 0 hands back at the first failure.
   * @default 180000 (three of the scheduler's default leases)
   */
  resultRetryMs?: number;
  /** Receives handlers' logs (info and up by default) and the worker's own (debug, warn). @default consoleLogger() */
  logger?: ActionLogger;
  /** How often the worker announces its queues and actions on `weft.worker.announce` (the API's catalog); 0 never. @default 15000 */
  announceIntervalMs?: number;
  /**
   * Largest JSON output (bytes) a result may carry (WEFT_MAX_PAYLOAD); a bigger one, or one holding
   * text PostgreSQL refuses, fails the step (PAYLOAD_TOO_LARGE / UNSTORABLE_OUTPUT, never retried)
   * instead of being published. @default DEFAULT_MAX_PAYLOAD_BYTES
   */
  maxPayloadBytes?: number;
  /**
   * Large outputs by reference (issue 12 item 4): with a blob store, an output whose JSON is over
   * `inlinePayloadBytes` (and within `maxOutputBytes`) is stored there and the result carries
   * `{ $weftBlob, size }`. Without one, `maxPayloadBytes` bounds every output. @default none
   */
  blobs?: OutputBlobs;
  /** Called after each step is settled with the broker; for metrics and tests. Must not throw. */
  onStepFinished?: (event: StepFinishedEvent) => void;
}

export interface StepFinishedEvent {
  runId: string;
  workflow: string;
  stepId: string;
  attempt: number;
  action: string;
  queue: string;
  workerId: string;
  /** `handed-back`: not reported; the dispatch was nak'ed so that a worker runs it again. */
  outcome: 'completed' | 'failed' | 'handed-back';
  error?: StepError;
  /** From the start of the handler until the result was published. */
  durationMs: number;
}

export interface Worker {
  readonly workerId: string;
  /** Subscribes to the queues and to cancel broadcasts. */
  start(): Promise<void>;
  /** Stops pulling, lets in-flight steps finish within the grace period, then aborts and hands back the rest. */
  stop(): Promise<void>;
  /** Steps whose handler is running now. */
  inFlight(): number;
}

export const WORKER_DEFAULTS = { concurrency: 8, heartbeatIntervalMs: 10_000, startedReportDelayMs: 20, shutdownGraceMs: 30_000, resultRetryMs: 180_000 } as const;

/** Serves every queue. */
export const ALL_QUEUES = '*';

/** `executor-<queue>`: every replica serving a queue shares its durable consumer. */
export const executorGroup = (queue: string): string => `executor-${queue === ALL_QUEUES ? 'all' : queue}`;
