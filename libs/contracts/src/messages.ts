import { z } from 'zod';
import { LifecycleEventType, RunStatus, StepError, StepStatus } from './statuses';
import { Actor, SignalMessage } from './waits';
import { WeftError, type WeftErrorOptions } from './weft-error';

/**
 * Every message Weft sends, defined once: a payload schema per subject family.
 * Publishers and consumers are typed by subject through `MessageOf<S>`;
 * consumers validate with `parseMessage` at the edge and trust the result inside.
 */

/** The namespace of runs, workflows and events that name none (and of `weft dev` without a key). */
export const DEFAULT_NAMESPACE = 'default';

export const RunRequested = z.object({
  /** Deduplicates requests: the same key never starts two runs. */
  idempotencyKey: z.string().min(1),
  /** Run id chosen by the requester (optional; the scheduler makes one otherwise). */
  runId: z.string().min(1).optional(),
  workflow: z.string().min(1),
  /** A stored version to run; absent means the published version, or `spec` for ad-hoc runs. */
  version: z.string().optional(),
  /** An ad-hoc spec (already validated by the sender, validated again by the scheduler). */
  spec: z.unknown().optional(),
  inputs: z.record(z.string(), z.unknown()).default({}),
  correlationId: z.string().optional(),
  /** The namespace the run (and the workflow it names) belongs to. @default {@link DEFAULT_NAMESPACE} */
  namespace: z.string().min(1).optional(),
  /** Who asked: cli, api, trigger:<id>, rerun:<runId>, parent:<runId>. */
  source: z.string().optional(),
  /** Who asked, when a person or a key did (the API key, or `local`); audit records name the same. */
  actor: Actor.optional(),
  /**
   * A child run (`action: workflow`): the parent step it reports its end to (as that attempt's
   * step result) and its depth (the parent's + 1, bounded by WEFT_MAX_RUN_DEPTH).
   */
  parent: z
    .object({ runId: z.string().min(1), stepId: z.string().min(1), attempt: z.number().int().min(1), token: z.string().min(1), depth: z.number().int().min(1) })
    .optional(),
});
export type RunRequested = z.infer<typeof RunRequested>;

/** Cancel a run (durably, through the scheduler's inbox): a parent canceling its child. */
export const RunCancelRequested = z.object({
  runId: z.string().min(1),
  reason: z.string(),
  /** The run that asked (its parent). */
  by: z.string().optional(),
});
export type RunCancelRequested = z.infer<typeof RunCancelRequested>;

/** Which slot place a request or release is about: the attempt's `token`, the slot's scope and key, the step. */
const SlotPlace = z.object({
  token: z.string().min(1),
  namespace: z.string().min(1),
  /** `<workflow>/<step>`. */
  scope: z.string().min(1),
  key: z.string(),
  runId: z.string().min(1),
  stepId: z.string().min(1),
});

/** A step attempt queues for a concurrency slot (`concurrency: { limit, key }`); idempotent by `token`. */
export const SlotRequested = SlotPlace.extend({
  /** 1..5, 1 first. */
  priority: z.number().int().min(1).max(5),
  limit: z.number().int().min(1),
  /** A request over the limit: waits (queue), cancels the oldest holder, or is canceled itself (a workflow's own limit). @default queue */
  strategy: z.enum(['queue', 'cancel-in-progress', 'cancel-newest']).optional(),
});
export type SlotRequested = z.infer<typeof SlotRequested>;

/** The step ended: its slot (or its place in the queue) goes back. Idempotent by `token`. */
export const SlotReleased = SlotPlace;
export type SlotReleased = z.infer<typeof SlotReleased>;

/**
 * A step attempt asks for a rate-limit permit (`rateLimit: { limit, period, key }`): at most
 * `limit` starts per `periodMs` of (namespace, scope, key) across runs (GCRA with `burst`); it
 * names its place as a slot release does. One request per `token`; a duplicate delivery
 * reserves again and only ever slows the key down.
 */
export const RateRequested = SlotReleased.extend({
  limit: z.number().int().min(1),
  /** The limit's period in milliseconds. */
  periodMs: z.number().positive(),
  /** Starts that may go at once after an idle time. */
  burst: z.number().int().min(1),
});
export type RateRequested = z.infer<typeof RateRequested>;

export const StepDispatch = z.object({
  runId: z.string(),
  workflow: z.string(),
  stepId: z.string(),
  attempt: z.number().int().min(1),
  /** Fencing token: the result must carry it back or it is ignored. */
  token: z.string(),
  action: z.string(),
  input: z.record(z.string(), z.unknown()),
  queue: z.string(),
  /** Per-attempt timeout in milliseconds; the executor aborts the handler when it passes. */
  timeoutMs: z.number().int().positive(),
});
export type StepDispatch = z.infer<typeof StepDispatch>;

export const StepResult = z.discriminatedUnion('outcome', [
  z.object({
    outcome: z.literal('completed'),
    runId: z.string(),
    stepId: z.string(),
    attempt: z.number().int().min(1),
    token: z.string(),
    workerId: z.string(),
    output: z.unknown(),
    /**
     * Epoch ms on the worker when the handler began; informational only (state uses database
     * time). A result may be the attempt's only message: a step that finishes within the
     * executor's `startedReportDelayMs` sends no started heartbeat, and the scheduler applies
     * the result as started and finished at once.
     */
    startedAt: z.number().optional(),
    /** Epoch ms on the worker; informational only (state uses database time). */
    finishedAt: z.number().optional(),
  }),
  z.object({
    outcome: z.literal('failed'),
    runId: z.string(),
    stepId: z.string(),
    attempt: z.number().int().min(1),
    token: z.string(),
    workerId: z.string(),
    error: StepError,
    startedAt: z.number().optional(),
    finishedAt: z.number().optional(),
  }),
]);
export type StepResult = z.infer<typeof StepResult>;

export const StepHeartbeat = z.object({
  runId: z.string(),
  stepId: z.string(),
  attempt: z.number().int().min(1),
  token: z.string(),
  workerId: z.string(),
  /**
   * `started` is sent once the handler has run for the executor's `startedReportDelayMs` (or
   * asked to heartbeat sooner); a step that finishes first sends none, its result says it
   * started. `progress` while it runs.
   */
  phase: z.enum(['started', 'progress']),
});
export type StepHeartbeat = z.infer<typeof StepHeartbeat>;

export const RunCancel = z.object({
  runId: z.string(),
  /** Absent: every in-flight step of the run. */
  stepId: z.string().optional(),
  attempt: z.number().int().optional(),
  reason: z.string(),
});
export type RunCancel = z.infer<typeof RunCancel>;

export const LifecycleEvent = z.object({
  /** Unique, stable across redeliveries: `<runId>:<seq>:<n>`. */
  eventId: z.string(),
  type: LifecycleEventType,
  runId: z.string(),
  workflow: z.string(),
  version: z.string(),
  /** The run's namespace; readers of the journal and insights see only their own. Absent (older producers): {@link DEFAULT_NAMESPACE}. */
  namespace: z.string().min(1).optional(),
  stepId: z.string().optional(),
  attempt: z.number().int().optional(),
  status: z.union([RunStatus, StepStatus]),
  /** ISO 8601, database time. */
  at: z.string(),
  durationMs: z.number().optional(),
  error: StepError.optional(),
  correlationId: z.string().optional(),
  traceId: z.string().optional(),
  data: z.record(z.string(), z.unknown()).optional(),
});
export type LifecycleEvent = z.infer<typeof LifecycleEvent>;

/** Most events one batch message carries (a transition with more goes out in several). */
export const MAX_EVENTS_PER_BATCH = 256;
/**
 * The lifecycle events of one transition, in order, as one message on {@link LIFECYCLE_BATCH_SUBJECT}
 * (msgId `<runId>:<seq>:events:<first>-<last>`, the event indexes it carries). Each event keeps its own
 * `eventId`, so consumers stay idempotent per event. A lone event still goes as itself on `weft.event.<type>`.
 */
export const LifecycleEventBatch = z.object({
  events: z.array(LifecycleEvent).min(1).max(MAX_EVENTS_PER_BATCH),
});
export type LifecycleEventBatch = z.infer<typeof LifecycleEventBatch>;

/** One action a worker serves, as the action catalog shows it. */
export const AnnouncedAction = z.object({
  name: z.string().min(1),
  description: z.string().optional(),
  /** JSON Schema of the action's input (informational; workers do not enforce it). */
  inputSchema: z.record(z.string(), z.unknown()).optional(),
});
export type AnnouncedAction = z.infer<typeof AnnouncedAction>;

/**
 * A live worker says what it serves (broadcast, not stored): at start and then every
 * `intervalMs`. Listeners forget a worker that stays silent for a few intervals.
 */
export const WorkerAnnounce = z.object({
  workerId: z.string().min(1),
  /** Task queues served; `*` is every queue. */
  queues: z.array(z.string()),
  actions: z.array(AnnouncedAction),
  /** Milliseconds until the next announcement. */
  intervalMs: z.number().int().positive(),
  /** ISO 8601, the worker's clock (informational). */
  at: z.string(),
  /** The worker is stopping: forget it now. @default false */
  leaving: z.boolean().optional(),
});
export type WorkerAnnounce = z.infer<typeof WorkerAnnounce>;

export const SUBJECTS = {
  runRequested: 'weft.run.requested',
  stepResult: 'weft.step.result',
  stepHeartbeat: 'weft.step.heartbeat',
  runCancel: 'weft.run.cancel',
  /** Durable cancel of a run by another run (a parent's child), on the scheduler's inbox. */
  runCancelRequested: 'weft.run.cancel-requested',
  /** Concurrency slots, on the scheduler's inbox (docs/flow-control.md). */
  slotRequested: 'weft.slot.requested',
  slotReleased: 'weft.slot.released',
  /** Rate-limit permits share the slots' subjects on the inbox (flow control). */
  rateRequested: 'weft.slot.rate-requested',
  workerAnnounce: 'weft.worker.announce',
  dispatchPrefix: 'weft.step.dispatch.',
  eventPrefix: 'weft.event.',
  /** `weft.signal.<name>`: an outside event for steps waiting on it (see waits.ts). */
  signalPrefix: 'weft.signal.',
} as const;

export const dispatchSubject = (queue: string): `weft.step.dispatch.${string}` => `weft.step.dispatch.${queue}`;
export const eventSubject = (type: LifecycleEventType): `weft.event.${string}` => `weft.event.${type}`;
/** Batches share the events' stream and `weft.event.>` filter; one token, so no event type can take it. */
export const LIFECYCLE_BATCH_SUBJECT = 'weft.event.batch';
export const isLifecycleBatchSubject = (subject: string): boolean => subject === LIFECYCLE_BATCH_SUBJECT;

/**
 * The events a message on `weft.event.>` carries, in order: a batch's, or the one event (the
 * single-event form, still published for a lone event and kept in streams and outboxes).
 * Validates against the contract; throws ContractError naming the fields.
 */
export function lifecycleEventsOf(subject: string, payload: unknown): LifecycleEvent[] {
  if (isLifecycleBatchSubject(subject)) return parseWith(LifecycleEventBatch, subject, payload).events;
  if (subject.startsWith(SUBJECTS.eventPrefix)) return [parseWith(LifecycleEvent, subject, payload)];
  throw new ContractError(subject, `${subject} is not a lifecycle event subject`);
}

/** Subject -> payload, for typed publish and subscribe. */
export interface MessageMap {
  'weft.run.requested': RunRequested;
  'weft.step.result': StepResult;
  'weft.step.heartbeat': StepHeartbeat;
  'weft.run.cancel': RunCancel;
  'weft.run.cancel-requested': RunCancelRequested;
  'weft.slot.requested': SlotRequested;
  'weft.slot.released': SlotReleased;
  'weft.slot.rate-requested': RateRequested;
  'weft.worker.announce': WorkerAnnounce;
  [dispatch: `weft.step.dispatch.${string}`]: StepDispatch;
  /**
   * Consumers of `weft.event.>` never see this type: the bus hands each event of a batch as its own
   * delivery (libs/bus lifecycle-batch.ts). Publishers and raw readers use {@link LifecycleEventBatch}.
   */
  [event: `weft.event.${string}`]: LifecycleEvent;
  [signal: `weft.signal.${string}`]: SignalMessage;
}
export type Subject = keyof MessageMap;
export type MessageOf<S extends Subject> = MessageMap[S];

const schemaFor = (subject: string): z.ZodType => {
  if (subject === SUBJECTS.runRequested) return RunRequested;
  if (subject === SUBJECTS.stepResult) return StepResult;
  if (subject === SUBJECTS.stepHeartbeat) return StepHeartbeat;
  if (subject === SUBJECTS.runCancel) return RunCancel;
  if (subject === SUBJECTS.runCancelRequested) return RunCancelRequested;
  if (subject === SUBJECTS.slotRequested) return SlotRequested;
  if (subject === SUBJECTS.slotReleased) return SlotReleased;
  if (subject === SUBJECTS.rateRequested) return RateRequested;
  if (subject === SUBJECTS.workerAnnounce) return WorkerAnnounce;
  if (subject.startsWith(SUBJECTS.dispatchPrefix)) return StepDispatch;
  if (isLifecycleBatchSubject(subject)) return LifecycleEventBatch;
  if (subject.startsWith(SUBJECTS.eventPrefix)) return LifecycleEvent;
  if (subject.startsWith(SUBJECTS.signalPrefix)) return SignalMessage;
  throw new ContractError(subject, `no contract for subject ${subject}`);
};

export class ContractError extends WeftError<'CONTRACT_VIOLATION'> {
  constructor(
    readonly subject: string,
    message: string,
    options?: WeftErrorOptions,
  ) {
    super('CONTRACT_VIOLATION', message, options);
  }
}

/** Validates a decoded payload against its subject's contract; throws ContractError naming the fields. */
export function parseMessage<S extends Subject>(subject: S, payload: unknown): MessageOf<S> {
  return parseWith(schemaFor(subject), subject, payload) as MessageOf<S>;
}

function parseWith<T>(schema: z.ZodType<T>, subject: string, payload: unknown): T {
  const result = schema.safeParse(payload);
  if (!result.success) {
    const detail = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ContractError(subject, `invalid ${subject} message: ${detail}`, { cause: result.error });
  }
  return result.data;
}
