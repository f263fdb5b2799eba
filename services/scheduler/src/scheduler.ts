import type { Bus, Subscription } from '@weft/bus';
import { type BlobStore, DEFAULT_INLINE_PAYLOAD_BYTES, DEFAULT_MAX_OUTPUT_BYTES, type RunRequested, SUBJECTS } from '@weft/contracts';
import { DEFAULT_DISPATCH_WINDOW, type EngineEvent, type RunState } from '@weft/core';
import { CommittedRowsPublisher } from './outbox/committed-rows.publisher';
import type { BeforePublish } from './outbox/outbox-sender';
import { OutboxQuarantine } from './outbox/outbox-quarantine';
import { OutboxRelay } from './outbox/outbox.relay';
import type { RunStore, TimerRecord, UpdateRunOptions } from './ports/run-store.port';
import { type SchedulerLogger, silentSchedulerLogger } from './ports/scheduler-logger.port';
import { adhocOnlyCatalog, type WorkflowCatalog } from './ports/workflow-catalog.port';
import { ScanSchedule } from './timers/scan-schedule';
import { TimerScan } from './timers/timer-scan';
import { DeliveryHold } from './transport/delivery-hold';
import { RunRequestedHandler } from './transport/run-requested.handler';
import { RunCancelRequestedHandler } from './transport/run-cancel-requested.handler';
import { SlotHandler } from './transport/slot.handler';
import { DEFAULT_SLOT_LEASE_MS, SlotsUseCase } from './usecases/slots.usecase';
import { RateLimitsUseCase } from './usecases/rate-limits.usecase';
import { SharedWindows } from './usecases/shared-windows';
import type { SlotStore } from './ports/slot-store.port';
import { MemorySlotStore } from './persistence/memory-slot.store';
import { StepHeartbeatHandler } from './transport/step-heartbeat.handler';
import { StepResultHandler } from './transport/step-result.handler';
import { ApplyEventUseCase } from './usecases/apply-event.usecase';
import { BlobValues } from './usecases/blob-values';
import { type BlobSweepOptions, BlobSweepUseCase } from './usecases/blob-sweep.usecase';
import { type OutboxRetentionOptions, OutboxRetentionUseCase } from './outbox/outbox-retention.usecase';
import { CreateRunUseCase, type StartRunOptions } from './usecases/create-run.usecase';
import { recoverInFlight } from './usecases/recover-in-flight.usecase';
import { sampleActiveRuns, sampleRunStore } from './usecases/run-telemetry.util';
import { SignalHandler } from './transport/signal.handler';
import { ReviewsUseCase } from './usecases/reviews.usecase';
import { SignalDeliveryUseCase, SignalsUseCase } from './usecases/signals.usecase';

/**
 * Step results handled at once. A result's handler waits for its run's batch to commit, so a run
 * with its whole dispatch window (64 by default) finishing together would, with the bus's default
 * of 64, hold every handler and leave other runs' results in the stream behind it (issue 15, fair
 * share); four windows' worth keeps a small run's result from queueing behind a big run's.
 */
const RESULT_HANDLERS = 4 * DEFAULT_DISPATCH_WINDOW;

export type { SchedulerLogger } from './ports/scheduler-logger.port';
export { RunRejectedError, type StartRunOptions } from './usecases/create-run.usecase';

export interface SchedulerOptions {
  bus: Bus;
  store: RunStore;
  catalog?: WorkflowCatalog;
  /** Upper bound between timer / lease scans. @default 250 */
  pollIntervalMs?: number;
  /** Messages the relay publishes per batch. @default 256 */
  relayBatch?: number;
  /**
   * How long ids of messages published right after their commit wait to be marked
   * published with others (ms): one relaxed statement per batch, never two at once (ids
   * published meanwhile go in the next). 0 marks them once the PubAcks that arrived
   * together are handled. A mark lost in a crash only means the relay publishes the row
   * again once its claim lapses (the broker drops the repeat). @default 0
   */
  markDelayMs?: number;
  /** Marking starts at once when this many ids wait. @default 256 */
  markBatch?: number;
  /** Lease granted to a dispatched, started or heartbeating attempt (ms). @default the engine's LEASE_MS */
  leaseMs?: number;
  /**
   * Largest JSON payload (bytes) of a dispatch's input, a result's output or a run's outputs
   * (WEFT_MAX_PAYLOAD); bigger ones fail the step (or run) with PAYLOAD_TOO_LARGE. @default DEFAULT_MAX_PAYLOAD_BYTES
   */
  maxPayloadBytes?: number;
  /** Most items one forEach step may yield (WEFT_MAX_FOREACH_ITEMS). @default the engine's DEFAULT_MAX_FOREACH_ITEMS */
  maxForEachItems?: number;
  /**
   * Called with the rows a transition committed, before they are published right after
   * the commit, and with each batch the relay claimed, before it publishes it. A seam for
   * fault tests (crash between commit and publish); production code leaves it unset.
   */
  beforePublish?: BeforePublish;
  logger?: SchedulerLogger;
  /**
   * At start, treat every queued or running step as lost and dispatch it again.
   * Only right when no other process can be running them: embedded mode, where the
   * bus lived in the previous process and died with it.
   */
  recoverInFlightOnStart?: boolean;
  /** How long signals are kept (WEFT_SIGNAL_RETENTION, ms). @default 7 days */
  signalRetentionMs?: number;
  /** Deepest nesting of child runs (WEFT_MAX_RUN_DEPTH). @default the engine's DEFAULT_MAX_RUN_DEPTH */
  maxRunDepth?: number;
  /**
   * The dispatch window of a run whose workflow sets none while other runs are active beside it
   * (WEFT_SHARED_WINDOW; SharedWindows). @default the engine's DEFAULT_SHARED_WINDOW
   */
  sharedWindow?: number;
  /**
   * Where outputs stored by reference live (issue 12 item 4): expressions reading such an output
   * see its value, loaded on demand. Without it they see the `{ $weftBlob, size }` reference. @default none
   */
  blobs?: BlobStore;
  /**
   * With `blobs`: run inputs, run outputs and a child's inputs whose JSON is larger than this are
   * stored once and kept by reference (WEFT_INLINE_PAYLOAD_MAX). @default DEFAULT_INLINE_PAYLOAD_BYTES (256 KiB)
   */
  inlinePayloadBytes?: number;
  /** With `blobs`: largest run input or output stored by reference (WEFT_MAX_OUTPUT). @default DEFAULT_MAX_OUTPUT_BYTES (100 MiB) */
  maxOutputBytes?: number;
  /** Removing blobs no run names any more (WEFT_BLOB_SWEEP_GRACE; sweepUnnamedBlobs in @weft/db). @default none */
  blobSweep?: BlobSweepOptions;
  /**
   * Deleting published outbox rows (WEFT_OUTBOX_RETENTION, WEFT_OUTBOX_PRUNE_INTERVAL), when the
   * store keeps them (SQL). @default DEFAULT_OUTBOX_RETENTION_MS (1 h) every minute
   */
  outboxRetention?: OutboxRetentionOptions;
  /** Where concurrency slots are kept (SqlSlotStore on a database shared by replicas). @default in memory (one process) */
  slots?: SlotStore;
  /** How long a granted slot lasts without renewal (ms). @default DEFAULT_SLOT_LEASE_MS */
  slotLeaseMs?: number;
}

/**
 * The scheduler shell, wired: load state, decide (the core's), persist state + outbox,
 * publish. Every part is a named collaborator, one hop from the next:
 *
 *   transport/*.handler.ts  (NATS: run requested, step result, heartbeat)
 *     -> usecases/create-run.usecase.ts | usecases/apply-event.usecase.ts
 *     -> RunStore.createRun / updateRun (persistence/sql-run.store.ts: RunUpdateBatcher -> RunBatchWriter)
 *     -> outbox/committed-rows.publisher.ts (publish after commit), outbox/outbox.relay.ts (fallback)
 *   timers/timer-scan.ts (timers and leases, on ScanSchedule) -> usecases/apply-event.usecase.ts
 */
export class Scheduler {
  private readonly bus: Bus;
  private readonly store: RunStore;
  private readonly log: SchedulerLogger;
  private readonly recoverInFlightOnStart: boolean;
  private readonly publisher: CommittedRowsPublisher;
  private readonly relay: OutboxRelay;
  private readonly quarantine: OutboxQuarantine;
  private readonly transitions: ApplyEventUseCase;
  private readonly creation: CreateRunUseCase;
  private readonly scan: TimerScan;
  private readonly hold: DeliveryHold;
  private readonly subscriptions: Subscription[] = [];
  private unsample: (() => void) | undefined;
  /** Signals in and reviews decided (undefined when the store keeps no waits). */
  readonly signals: SignalsUseCase | undefined;
  readonly reviews: ReviewsUseCase | undefined;
  private readonly deliveries: SignalDeliveryUseCase | undefined;
  /** Concurrency slots across runs. */
  readonly slots: SlotsUseCase;
  /** Rate limits across runs (their TATs live beside the slots: SlotStore.rates). */
  readonly rates: RateLimitsUseCase;
  private readonly slotStore: SlotStore;
  private readonly slotReconcileMs: number;
  private slotTimer: NodeJS.Timeout | undefined;
  private slotPass: Promise<void> = Promise.resolve();
  private readonly blobSweep: BlobSweepUseCase | undefined;
  private readonly outboxRetention: OutboxRetentionUseCase | undefined;
  /** Each run's default dispatch window, shared while other runs are active (WEFT_SHARED_WINDOW). */
  readonly windows: SharedWindows;

  constructor(options: SchedulerOptions) {
    this.bus = options.bus;
    this.store = options.store;
    this.log = options.logger ?? silentSchedulerLogger;
    this.recoverInFlightOnStart = options.recoverInFlightOnStart ?? false;
    const blobValues = options.blobs === undefined ? undefined : new BlobValues(options.blobs);
    this.windows = new SharedWindows(options.sharedWindow);
    const decideOptions = {
      ...(options.leaseMs !== undefined && { leaseMs: options.leaseMs }),
      ...(options.maxPayloadBytes !== undefined && { maxPayloadBytes: options.maxPayloadBytes }),
      ...(options.maxForEachItems !== undefined && { maxForEachItems: options.maxForEachItems }),
      ...(options.maxRunDepth !== undefined && { maxRunDepth: options.maxRunDepth }),
      windowShare: this.windows,
      ...(blobValues !== undefined && {
        resolveBlob: blobValues.resolve,
        payloadRefs: {
          inlineBytes: options.inlinePayloadBytes ?? DEFAULT_INLINE_PAYLOAD_BYTES,
          maxBytes: options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES,
          resolve: blobValues.resolve,
          reference: (namespace: string, json: string) => blobValues.reference(namespace, json),
        },
      }),
    };
    this.publisher = new CommittedRowsPublisher(this.bus, this.store, this.log, {
      markDelayMs: options.markDelayMs,
      markBatch: options.markBatch,
      beforePublish: options.beforePublish,
      onPoison: (poison) => this.quarantine.quarantine(poison),
    });
    this.relay = new OutboxRelay(this.bus, this.store, this.log, options.relayBatch ?? 256, options.beforePublish, (poison) => this.quarantine.quarantine(poison));
    const schedule = new ScanSchedule();
    this.transitions = new ApplyEventUseCase(this.store, this.publisher.publish, schedule, decideOptions, blobValues);
    this.quarantine = new OutboxQuarantine(this.store, this.transitions, this.log);
    this.creation = new CreateRunUseCase(this.store, options.catalog ?? adhocOnlyCatalog, this.publisher.publish, decideOptions, blobValues);
    const waits = this.store.waits;
    if (waits) {
      const retention = options.signalRetentionMs === undefined ? {} : { retentionMs: options.signalRetentionMs };
      this.deliveries = new SignalDeliveryUseCase(waits, this.transitions, this.log, () => this.store.now(), retention);
      this.signals = new SignalsUseCase(waits, this.deliveries);
      this.reviews = new ReviewsUseCase(waits, this.store, this.transitions);
    }
    this.scan = new TimerScan(this.store, this.transitions, schedule, { publisher: this.publisher, relay: this.relay }, options.pollIntervalMs ?? 250, this.log, this.deliveries);
    this.hold = new DeliveryHold(this.log);
    this.blobSweep = options.blobSweep === undefined ? undefined : new BlobSweepUseCase(options.blobSweep, this.log);
    const prune = this.store.prunePublishedOutbox?.bind(this.store);
    this.outboxRetention = prune && new OutboxRetentionUseCase({ prunePublishedOutbox: prune }, this.log, options.outboxRetention);
    this.slotStore = options.slots ?? new MemorySlotStore(() => Date.now());
    const slotLeaseMs = options.slotLeaseMs ?? DEFAULT_SLOT_LEASE_MS;
    this.slots = new SlotsUseCase(this.slotStore, this.store, this.transitions, this.log, slotLeaseMs);
    this.rates = new RateLimitsUseCase(this.slotStore.rates, this.transitions);
    // Often enough that a lease is renewed several times before it could expire.
    this.slotReconcileMs = Math.max(50, Math.min(slotLeaseMs / 6, (options.pollIntervalMs ?? 250) * 4));
  }

  async start(): Promise<void> {
    this.scan.open();
    this.hold.open();
    if (this.recoverInFlightOnStart) await recoverInFlight(this.store, this.transitions, this.log);
    const early = this.store.earlyCancels;
    const runRequested = new RunRequestedHandler(this.creation, this.hold, this.log, { transitions: this.transitions, getRun: (id) => this.store.getRun(id) }, early && { cancels: early, transitions: this.transitions });
    const cancelRequested = new RunCancelRequestedHandler(this.transitions, this.hold, early);
    const slot = new SlotHandler(this.slots, this.hold, this.rates);
    const stepResult = new StepResultHandler(this.transitions, this.hold);
    const heartbeat = new StepHeartbeatHandler(this.transitions, this.hold);
    this.subscriptions.push(
      await this.bus.consume(SUBJECTS.runRequested, { group: 'scheduler-runs' }, (d) => runRequested.handle(d)),
      await this.bus.consume(SUBJECTS.runCancelRequested, { group: 'scheduler-cancels' }, (d) => cancelRequested.handle(d)),
      await this.bus.consume(SUBJECTS.slotRequested, { group: 'scheduler-slots' }, (d) => slot.requested(d)),
      await this.bus.consume(SUBJECTS.slotReleased, { group: 'scheduler-slots' }, (d) => slot.released(d)),
      await this.bus.consume(SUBJECTS.rateRequested, { group: 'scheduler-rates' }, (d) => slot.rateRequested(d)),
      await this.bus.consume(SUBJECTS.stepResult, { group: 'scheduler-results', concurrency: RESULT_HANDLERS }, (d) => stepResult.handle(d)),
      await this.bus.consume(SUBJECTS.stepHeartbeat, { group: 'scheduler-heartbeats' }, (d) => heartbeat.handle(d)),
    );
    if (this.signals) {
      const signal = new SignalHandler(this.signals, this.hold, this.log);
      this.subscriptions.push(await this.bus.consume(`${SUBJECTS.signalPrefix}>`, { group: 'scheduler-signals' }, (d) => signal.handle(d)));
    }
    // Whatever a previous process committed but did not publish goes out now.
    this.relay.kick();
    this.scan.begin();
    this.scheduleSlotPass();
    this.blobSweep?.start();
    this.outboxRetention?.start();
    if (this.unsample === undefined) {
      const removals = [sampleRunStore(this.store), sampleActiveRuns(this.windows)];
      this.unsample = () => removals.forEach((remove) => remove());
    }
  }

  async stop(): Promise<void> {
    clearTimeout(this.slotTimer);
    this.slotTimer = undefined;
    await this.slotPass;
    await this.blobSweep?.stop();
    await this.outboxRetention?.stop();
    this.relay.close();
    this.publisher.close();
    this.unsample?.();
    this.unsample = undefined;
    const scanned = this.scan.stop();
    this.hold.close();
    await Promise.all(this.subscriptions.splice(0).map((s) => s.drain()));
    await scanned;
    await this.relay.drain();
    await this.publisher.drain();
    await this.deliveries?.drain();
  }

  /** Starts a run (idempotent by key within its namespace). Throws RunRejectedError for requests that can never run. */
  startRun(request: RunRequested, options: StartRunOptions = {}): Promise<{ runId: string; created: boolean }> {
    return this.creation.start(request, options);
  }

  cancelRun(runId: string, reason?: string): Promise<RunState | undefined> {
    return this.transitions.cancel(runId, reason);
  }

  /** Re-runs a finished run's failed, canceled and skipped steps. */
  retryRun(runId: string): Promise<RunState | undefined> {
    return this.transitions.retry(runId);
  }

  getRun(runId: string): Promise<RunState | undefined> {
    return this.store.getRun(runId);
  }

  /** Applies one event to a run: the single path every change takes (ApplyEventUseCase). */
  apply(runId: string, event: (at: number) => EngineEvent, fired?: TimerRecord, options?: UpdateRunOptions): Promise<RunState | undefined> {
    return this.transitions.apply(runId, event, fired, options);
  }

  /** Publishes committed rows nobody holds a claim on now (OutboxRelay). */
  kickRelay(): void {
    this.relay.kick();
  }

  /** The slot reconciler: renews live holders' leases, reclaims dead ones, grants what queued (SlotsUseCase.reconcile). */
  private scheduleSlotPass(): void {
    this.slotTimer = setTimeout(() => {
      this.slotPass = this.slots
        .reconcile()
        .catch((error: unknown) => this.log.warn('slot reconcile failed', { error: error instanceof Error ? error.message : String(error) }))
        .finally(() => {
          if (this.slotTimer !== undefined) this.scheduleSlotPass();
        });
    }, this.slotReconcileMs);
  }

  /** Fires due timers and reaps expired leases once (TimerScan). */
  tick(): Promise<void> {
    return this.scan.tick();
  }
}
