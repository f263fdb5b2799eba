import { randomUUID } from 'node:crypto';
import type { Bus, Delivery, Subscription } from '@weft/bus';
import { DEFAULT_NAMESPACE, type RunRequested, type Subject, SUBJECTS } from '@weft/contracts';
import {
  createRun,
  type CreateRunArgs,
  decide,
  type DecideOptions,
  type EngineEvent,
  type RunState,
  resolveInputs,
  validateSpec,
  WorkflowSpec,
} from '@weft/core';
import type { LeaseRef, OutboxRecord, RunStore, TimerRecord, UpdateRunOptions } from '../ports/run-store.port';
import { adhocOnlyCatalog, type WorkflowCatalog } from '../ports/workflow-catalog.port';
import { RunStoreError } from '../persistence/run-store.errors';
import { carrierOf, detached, inSpan, recordRunStarted, underCarrier } from '@weft/telemetry';
import { sampleRunStore, TransitionTelemetry, withRunTraceContext } from './run-telemetry.util';
import { toTransition } from './transition.util';

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
   * Called with the rows a transition committed, before they are published right after
   * the commit, and with each batch the relay claimed, before it publishes it. A seam for
   * fault tests (crash between commit and publish); production code leaves it unset.
   */
  beforePublish?: (batch: readonly OutboxRecord[]) => void;
  logger?: SchedulerLogger;
  /**
   * At start, treat every queued or running step as lost and dispatch it again.
   * Only right when no other process can be running them: embedded mode, where the
   * bus lived in the previous process and died with it.
   */
  recoverInFlightOnStart?: boolean;
}

/** What a run request over the bus cannot say: only the API (in process) passes these. */
export interface StartRunOptions {
  /** @default default */
  namespace?: string;
  /** Steps that start completed with a previous run's outputs (a rerun from a step; see rerunPlan). */
  reuse?: CreateRunArgs['reuse'];
}

export interface SchedulerLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

const silent: SchedulerLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** A run request that can never succeed (bad spec, bad inputs, unknown workflow): dead-lettered, not retried. */
export class RunRejectedError extends Error {
  readonly code = 'RUN_REJECTED';
  constructor(message: string) {
    super(message);
    this.name = 'RunRejectedError';
  }
}

/**
 * The scheduler shell: load state, decide, persist state + outbox, publish.
 * All decisions are the core's; this class only moves data and keeps time.
 */
/** Failed rows kept for an in-process re-send (see Scheduler.unsent). */
const UNSENT_LIMIT = 10_000;

export class Scheduler {
  private readonly bus: Bus;
  private readonly store: RunStore;
  private readonly catalog: WorkflowCatalog;
  private readonly pollIntervalMs: number;
  private readonly relayBatch: number;
  private readonly markDelayMs: number;
  private readonly markBatch: number;
  private readonly decideOptions: DecideOptions;
  private readonly beforePublish: ((batch: readonly OutboxRecord[]) => void) | undefined;
  private readonly log: SchedulerLogger;
  private readonly recoverInFlightOnStart: boolean;
  private readonly subscriptions: Subscription[] = [];
  private timer: NodeJS.Timeout | undefined;
  private nextTickAt = Number.POSITIVE_INFINITY;
  private running = false;
  private relaying: Promise<void> | undefined;
  private relayAgain = false;
  /** Publishes of committed rows in flight (stop() waits for them). */
  private readonly publishing = new Set<Promise<void>>();
  /**
   * Rows whose publish after commit failed (NATS away): sent again by this process on
   * every scan while it still holds their claim, instead of waiting for the claim to lapse
   * for the relay. Bounded: beyond it the relay's lapse covers them.
   */
  private unsent: OutboxRecord[] = [];
  /** Ids published right after their commit, waiting for the debounced mark. */
  private unmarked: string[] = [];
  /** Cancels the scheduled mark (a timer, or an immediate with no delay). */
  private markTimer: (() => void) | undefined;
  private marking: Promise<void> | undefined;
  /** Hands the rows a transition committed (inserted claimed) to publishNow. */
  private readonly claimOutbox = (rows: readonly OutboxRecord[]): void => this.publishNow(rows);
  private ticking: Promise<void> | undefined;
  /** Wakes handlers holding messages through a database outage, so stop() is not kept waiting. */
  private readonly holding = new Set<() => void>();
  private unsample: (() => void) | undefined;

  constructor(options: SchedulerOptions) {
    this.bus = options.bus;
    this.store = options.store;
    this.catalog = options.catalog ?? adhocOnlyCatalog;
    this.pollIntervalMs = options.pollIntervalMs ?? 250;
    this.relayBatch = options.relayBatch ?? 256;
    this.markDelayMs = options.markDelayMs ?? 0;
    this.markBatch = options.markBatch ?? 256;
    this.decideOptions = options.leaseMs === undefined ? {} : { leaseMs: options.leaseMs };
    this.beforePublish = options.beforePublish;
    this.log = options.logger ?? silent;
    this.recoverInFlightOnStart = options.recoverInFlightOnStart ?? false;
  }

  async start(): Promise<void> {
    this.running = true;
    if (this.recoverInFlightOnStart) await this.recoverInFlight();
    this.subscriptions.push(
      await this.bus.consume(SUBJECTS.runRequested, { group: 'scheduler-runs' }, (d) => this.onRunRequested(d)),
      await this.bus.consume(SUBJECTS.stepResult, { group: 'scheduler-results' }, (d) => this.onResult(d)),
      await this.bus.consume(SUBJECTS.stepHeartbeat, { group: 'scheduler-heartbeats' }, (d) => this.onHeartbeat(d)),
    );
    // Whatever a previous process committed but did not publish goes out now.
    this.kickRelay();
    this.scheduleTick(0);
    this.unsample ??= sampleRunStore(this.store);
  }

  async stop(): Promise<void> {
    this.running = false;
    this.unsample?.();
    this.unsample = undefined;
    if (this.timer) clearTimeout(this.timer);
    for (const wake of this.holding) wake();
    await Promise.all(this.subscriptions.splice(0).map((s) => s.drain()));
    await this.ticking;
    await this.relaying;
    await Promise.all([...this.publishing]);
    // Marks still waiting go now (a failed mark drops its ids: the relay covers them).
    while (this.marking !== undefined || this.unmarked.length > 0) {
      this.flushMarks();
      await this.marking;
    }
  }

  /** Starts a run (idempotent by key within its namespace). Throws RunRejectedError for requests that can never run. */
  async startRun(request: RunRequested, options: StartRunOptions = {}): Promise<{ runId: string; created: boolean }> {
    const runId = request.runId ?? randomUUID();
    const namespace = options.namespace ?? request.namespace ?? DEFAULT_NAMESPACE;
    // The run's root span: its context is stored with the run, and everything the run publishes descends from it.
    return inSpan(`run.start ${request.workflow}`, { attributes: { 'weft.run.id': runId, 'weft.workflow': request.workflow } }, async (span) => {
      const { spec, version, inputs } = await inSpan('run.validate', {}, async () => {
        const found = await this.resolveSpec(request, namespace);
        const resolved = resolveInputs(found.spec, request.inputs ?? {});
        const inputErrors = resolved.diagnostics.filter((d) => d.severity === 'error');
        if (inputErrors.length > 0) throw new RunRejectedError(inputErrors.map((d) => `${d.path}: ${d.message}`).join('; '));
        return { ...found, inputs: resolved.inputs };
      });
      const trace = carrierOf(span);
      const result = await inSpan('run.persist', {}, () =>
        this.store.createRun(request.idempotencyKey, (now) => {
          const created = createRun({ runId, spec, version, inputs, at: now, correlationId: request.correlationId, namespace, reuse: options.reuse });
          const started = decide(withRunTraceContext(created.state, trace), { type: 'run.start', at: now }, this.decideOptions);
          const transition = toTransition(undefined, { state: started.state, commands: [...created.commands, ...started.commands] });
          if (!transition) throw new Error('createRun produced no transition');
          return transition;
        }, { namespace, claimOutbox: this.claimOutbox }),
      );
      span.setAttributes({ 'weft.run.id': result.runId, 'weft.run.created': result.created });
      if (result.created) recordRunStarted(spec.name);
      return result;
    });
  }

  async cancelRun(runId: string, reason = 'canceled by user'): Promise<RunState | undefined> {
    return this.apply(runId, (at) => ({ type: 'run.cancel', at, reason }));
  }

  /** Re-runs a finished run's failed, canceled and skipped steps. */
  async retryRun(runId: string): Promise<RunState | undefined> {
    return this.apply(runId, (at) => ({ type: 'run.retry', at }));
  }

  getRun(runId: string): Promise<RunState | undefined> {
    return this.store.getRun(runId);
  }

  /** Applies one event to a run: the single path every change takes. */
  async apply(runId: string, event: (at: number) => EngineEvent, fired?: TimerRecord, options?: UpdateRunOptions): Promise<RunState | undefined> {
    let earliest: number | undefined;
    // Database time of the decision, and when (local monotonic clock) it was read: the wake-up
    // delay is fireAt minus that, minus the time since, with no clock comparison and no query.
    let decidedAt = 0;
    let decidedLocal = 0;
    const telemetry = new TransitionTelemetry();
    const state = await this.store
      .updateRun(runId, (current, now) => {
        decidedAt = now;
        decidedLocal = performance.now();
        const happened = event(now);
        const transition = toTransition(current, decide(current, happened, this.decideOptions), fired ? [fired] : []);
        telemetry.observe(current, happened, transition?.state);
        for (const t of transition?.schedule ?? []) earliest = Math.min(earliest ?? t.fireAt, t.fireAt);
        return transition;
      }, { ...options, claimOutbox: this.claimOutbox })
      .catch((error: unknown) => telemetry.failed(error));
    telemetry.committed();
    if (earliest !== undefined) this.wakeAt(earliest - decidedAt - (performance.now() - decidedLocal));
    return state;
  }

  private async resolveSpec(request: RunRequested, namespace: string | undefined): Promise<{ spec: WorkflowSpec; version: string }> {
    if (request.spec !== undefined) {
      const parsed = WorkflowSpec.safeParse(request.spec);
      if (!parsed.success) throw new RunRejectedError(`invalid spec: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      const problems = validateSpec(parsed.data).filter((d) => d.severity === 'error');
      if (problems.length > 0) throw new RunRejectedError(`invalid spec: ${problems.map((d) => `${d.path}: ${d.message}`).join('; ')}`);
      return { spec: parsed.data, version: request.version ?? 'adhoc' };
    }
    const found = await this.catalog.resolve(request.workflow, request.version, namespace);
    if (!found) throw new RunRejectedError(`unknown workflow ${request.workflow}${request.version ? ` version ${request.version}` : ''}`);
    return found;
  }

  private async onRunRequested(delivery: Delivery<'weft.run.requested'>): Promise<void> {
    try {
      await this.untilCommitted(delivery, () => this.startRun(delivery.data));
      await delivery.ack();
    } catch (error) {
      if (error instanceof RunRejectedError) {
        this.log.warn('run request rejected', { reason: error.message, idempotencyKey: delivery.data.idempotencyKey });
        await delivery.term(error.message);
        return;
      }
      throw error;
    }
  }

  private async onResult(delivery: Delivery<'weft.step.result'>): Promise<void> {
    const r = delivery.data;
    // A short step's result is its only message (no started heartbeat): the core starts and
    // ends the attempt in this one transaction, on database time (r.startedAt is the worker's clock).
    await this.untilCommitted(delivery, () => this.apply(r.runId, (at) =>
      r.outcome === 'completed'
        ? { type: 'step.completed', at, stepId: r.stepId, attempt: r.attempt, token: r.token, output: r.output, workerId: r.workerId }
        : { type: 'step.failed', at, stepId: r.stepId, attempt: r.attempt, token: r.token, error: r.error, workerId: r.workerId },
    ));
  }

  private async onHeartbeat(delivery: Delivery<'weft.step.heartbeat'>): Promise<void> {
    const h = delivery.data;
    await this.untilCommitted(delivery, () => this.apply(h.runId, (at) =>
      h.phase === 'started'
        ? { type: 'step.started', at, stepId: h.stepId, attempt: h.attempt, token: h.token, workerId: h.workerId }
        : { type: 'step.heartbeat', at, stepId: h.stepId, attempt: h.attempt, token: h.token },
      undefined,
      // Losing a heartbeat in a database crash is harmless (see UpdateRunOptions.relaxed).
      { relaxed: true },
    ));
  }

  /**
   * Runs a message's use case until the database answers. Through an outage the delivery
   * is held (working() keeps the broker from redelivering it), never acked and not nak'ed:
   * every redelivery counts towards the consumer's max deliveries, and a result
   * dead-lettered during a long outage would be lost. Other errors propagate (nak, and
   * in the end a dead letter); on stop() the hold ends and the broker redelivers later.
   */
  private async untilCommitted<T>(delivery: Pick<Delivery<Subject>, 'subject' | 'working'>, work: () => Promise<T>): Promise<T> {
    for (let held = 0; ; held++) {
      try {
        return await work();
      } catch (error) {
        if (!(error instanceof RunStoreError && error.code === 'STORE_UNAVAILABLE') || !this.running) throw error;
        if (held === 0) this.log.warn('database unavailable: holding the message until it answers', { subject: delivery.subject, error: error.message });
        await delivery.working();
        await new Promise<void>((resolve) => {
          const wake = (): void => {
            clearTimeout(timer);
            this.holding.delete(wake);
            resolve();
          };
          const timer = setTimeout(wake, Math.min(100 * 2 ** held, 2_000));
          this.holding.add(wake);
        });
      }
    }
  }

  private async recoverInFlight(): Promise<void> {
    for (const run of await this.store.listRuns({ status: ['running'] })) {
      for (const step of Object.values(run.steps)) {
        if (step.status !== 'queued' && step.status !== 'running') continue;
        this.log.info('re-dispatching a step left in flight by the previous process', { runId: run.runId, stepId: step.id, attempt: step.attempt });
        await this.apply(run.runId, (at) => ({ type: 'step.lost', at, stepId: step.id, attempt: step.attempt }));
      }
    }
  }

  /**
   * Publishes the rows a transition just committed (the store inserted them claimed by
   * this process, so no relay takes them meanwhile), in outbox order and each under its
   * run's trace, and marks the published ones in a debounced batch. A row whose publish
   * fails stays claimed and unmarked and is sent again on every scan (a NATS blip costs a
   * poll interval, not a claim); if this process dies, the relay publishes it once the claim lapses.
   * Called in commit order, so a run's rows are sent in the order the relay would send them.
   */
  private publishNow(rows: readonly OutboxRecord[]): void {
    this.beforePublish?.(rows);
    this.publishRows(rows);
  }

  /** publishNow's work, and the re-send of rows whose publish failed (no fault-test seam: they were seen once). */
  private publishRows(rows: readonly OutboxRecord[]): void {
    // Detached: each row is published under its run's trace, not under the commit's caller.
    const sent = detached(() => rows.map((row) => this.send(row)));
    const done = Promise.allSettled(sent).then((outcomes) => {
      const failed = rows.filter((_, i) => outcomes[i].status === 'rejected');
      if (failed.length > 0) {
        const kept = Math.max(0, Math.min(failed.length, UNSENT_LIMIT - this.unsent.length));
        this.unsent.push(...failed.slice(0, kept));
        this.log.warn('publish after commit failed; sending again on the next scan (the relay takes over if the claim lapses)', {
          rows: failed.length,
          error: String((outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult).reason),
        });
      }
      this.markLater(rows.filter((_, i) => outcomes[i].status === 'fulfilled').map((row) => row.id));
    });
    this.publishing.add(done);
    void done.finally(() => this.publishing.delete(done));
  }

  private send(row: OutboxRecord): Promise<void> {
    const options = { msgId: row.msgId, headers: row.headers };
    // The contract was checked when the row was built; the bus re-validates on delivery.
    // The row's headers hold its run's trace context: the PRODUCER span becomes its child.
    return underCarrier(row.headers, () =>
      row.kind === 'broadcast'
        ? this.bus.broadcast(row.subject as 'weft.run.cancel', row.payload as never, options)
        : this.bus.publish(row.subject as 'weft.step.result', row.payload as never, options),
    );
  }

  private markLater(ids: readonly string[]): void {
    if (ids.length === 0) return;
    this.unmarked.push(...ids);
    if (this.unmarked.length >= this.markBatch) this.flushMarks();
    else this.scheduleMarks();
  }

  /**
   * The next mark, never two in flight: after markDelayMs, or with no delay once the
   * current I/O is handled (PubAcks read together are marked together); at once when stopping.
   */
  private scheduleMarks(): void {
    if (this.marking !== undefined || this.markTimer !== undefined || this.unmarked.length === 0) return;
    if (!this.running) {
      this.flushMarks();
    } else if (this.markDelayMs <= 0) {
      const immediate = setImmediate(() => this.flushMarks());
      this.markTimer = () => clearImmediate(immediate);
    } else {
      const timer = setTimeout(() => this.flushMarks(), this.markDelayMs);
      this.markTimer = () => clearTimeout(timer);
    }
  }

  /** One markPublished for every id waiting; single-flight (ids arriving meanwhile go in the next). */
  private flushMarks(): void {
    this.markTimer?.();
    this.markTimer = undefined;
    if (this.marking !== undefined || this.unmarked.length === 0) return;
    const ids = this.unmarked;
    this.unmarked = [];
    this.marking = detached(() => this.store.markPublished(ids))
      .catch((error: unknown) => this.log.warn('marking published rows failed; the relay publishes them again once their claim lapses', { rows: ids.length, error: String(error) }))
      .finally(() => {
        this.marking = undefined;
        if (this.unmarked.length >= this.markBatch) this.flushMarks();
        else this.scheduleMarks();
      });
  }

  /**
   * Publishes committed outbox rows nobody holds a claim on: a previous process's, and
   * those whose publish right after commit failed or whose mark was lost, once their
   * claim lapsed. Runs at start and on every timer scan. Single-flight; a kick during a
   * pass triggers another pass.
   */
  kickRelay(): void {
    if (this.relaying) {
      this.relayAgain = true;
      return;
    }
    // Detached: the relay publishes each row under its run's trace, not under whichever request kicked it.
    this.relaying = detached(() => this.relay())
      .catch((error: unknown) => this.log.error('outbox relay failed; will retry', { error: String(error) }))
      .finally(() => {
        this.relaying = undefined;
        if (this.relayAgain && this.running) {
          this.relayAgain = false;
          this.kickRelay();
        }
      });
  }

  private async relay(): Promise<void> {
    for (;;) {
      this.relayAgain = false;
      const batch = await this.store.pendingOutbox(this.relayBatch);
      if (batch.length === 0) return;
      this.beforePublish?.(batch);
      await Promise.all(batch.map((row) => this.send(row)));
      await this.store.markPublished(batch.map((r) => r.id));
      if (batch.length < this.relayBatch && !this.relayAgain) return;
    }
  }

  /** A new timer earlier than the next scan moves the scan forward (short backoffs stay short). */
  /**
   * Brings the next scan forward to `delayMs` from now when that is earlier than the one
   * scheduled; never postpones it. Synchronous, so no scan scheduled meanwhile (the poll a
   * finishing scan sets) can be replaced by a later one.
   */
  private wakeAt(delayMs: number): void {
    const delay = Math.max(0, delayMs);
    if (!this.running || Date.now() + delay >= this.nextTickAt) return;
    this.scheduleTick(delay);
  }

  private scheduleTick(delayMs: number): void {
    if (!this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.nextTickAt = Date.now() + delayMs;
    // Detached: a timer callback would otherwise inherit the trace of the transition that scheduled it.
    this.timer = setTimeout(() => detached(() => {
      this.nextTickAt = Number.POSITIVE_INFINITY;
      if (this.unsent.length > 0) this.publishRows(this.unsent.splice(0));
      // Rows a dead relay claimed, or a failed pass (broker or database down) left behind, go out on a later scan.
      this.kickRelay();
      this.ticking = this.tick()
        .catch((error: unknown) => this.log.error('timer scan failed; will retry', { error: String(error) }))
        .then(async () => {
          const now = await this.store.now();
          const next = await this.store.nextTimerAt();
          const wait = next === undefined ? this.pollIntervalMs : Math.min(this.pollIntervalMs, Math.max(0, next - now));
          this.scheduleTick(wait);
        })
        .catch(() => this.scheduleTick(this.pollIntervalMs));
    }), delayMs);
  }

  /** Fires due timers and reaps expired leases. Safe to run on every replica: stale ones are no-ops. */
  async tick(): Promise<void> {
    const now = await this.store.now();
    for (const timer of await this.store.dueTimers(now, 256)) {
      await this.apply(
        timer.runId,
        (at) => ({ type: 'timer.fired', at, timer: timer.timer, ...(timer.stepId && { stepId: timer.stepId }), attempt: timer.attempt }),
        timer,
      );
    }
    for (const lease of await this.store.expiredLeases(now, 256)) await this.reap(lease);
  }

  private reap(lease: LeaseRef): Promise<RunState | undefined> {
    return this.apply(lease.runId, (at) => ({ type: 'timer.fired', at, timer: 'lease', stepId: lease.stepId, attempt: lease.attempt }));
  }
}
