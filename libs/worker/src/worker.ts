import { performance } from 'node:perf_hooks';
import { type Bus, type Delivery, type Subscription } from '@weft/bus';
import { dispatchSubject, type RunCancel, type StepDispatch, type StepResult, SUBJECTS } from '@weft/contracts';
import { type Span } from '@opentelemetry/api';
import { addSampleSource, inSpan, recordDispatchLatency, recordStepRetry, secondsSincePublished } from '@weft/telemetry';
import { StepCanceledError, StepTimeoutError, WorkerConfigError, WorkerShutdownError } from './action.errors';
import { ActionRegistry } from './action.registry';
import type { ActionContext, ActionLogger } from './action.types';
import { childLogger, consoleLogger } from './logger.util';
import { AbortedAttempts, Slots } from './step-admission.util';
import { invoke, mayPassOnRetry, pause, untilAborted } from './step-run.util';
import { WorkerAnnouncer } from './worker-announcer';
import { executorGroup, type StepFinishedEvent, type Worker, type WorkerOptions } from './worker.options';
import { resolveWorkerSettings } from './worker.settings';
import { type Outcome, recordFinished } from './step-finished.util';
import { holdsBlobRefs, type OutputBlobs, resolveInputRefs, toResultOutput, toStepError } from './step-outcome.util';

export { ALL_QUEUES, executorGroup, type StepFinishedEvent, type Worker, WORKER_DEFAULTS, type WorkerOptions } from './worker.options';

/** Backoff between tries of a result publish: doubling from the first to the cap. */
const RESULT_RETRY_FIRST_DELAY_MS = 100;
const RESULT_RETRY_MAX_DELAY_MS = 5_000;

export function createWorker(options: WorkerOptions): Worker {
  return new StepWorker(options);
}

type DispatchDelivery = Delivery<`weft.step.dispatch.${string}`>;

interface RunningStep {
  dispatch: StepDispatch;
  controller: AbortController;
}

class StepWorker implements Worker {
  readonly workerId: string;
  private readonly bus: Bus;
  private readonly queues: string[];
  private readonly registry: ActionRegistry;
  private readonly concurrency: number;
  private readonly prefetch: number;
  private readonly heartbeatIntervalMs: number;
  private readonly startedReportDelayMs: number;
  private readonly shutdownGraceMs: number;
  private readonly resultRetryMs: number;
  private readonly maxPayloadBytes: number;
  private readonly blobs: OutputBlobs | undefined;
  private readonly logger: ActionLogger;
  private readonly onStepFinished?: (event: StepFinishedEvent) => void;
  private readonly slots: Slots;
  private readonly running = new Set<RunningStep>();
  /** Attempts the scheduler aborted: a later redelivery of their dispatch is dropped, not run. */
  private readonly aborted = new AbortedAttempts();
  /** Fires when stop()'s grace period is over: steps still retrying their result give up. */
  private readonly graceOver = new AbortController();
  /** Every dispatch handler under way, including those waiting for a slot. */
  private readonly tasks = new Set<Promise<void>>();
  private subscriptions: Subscription[] = [];
  /** Kept apart: cancels must reach steps still finishing during a graceful stop. */
  private cancels: Subscription | undefined;
  /** Removes this worker's sources of the queue gauges. */
  private unsample: (() => void)[] = [];
  private readonly announcer: WorkerAnnouncer | undefined;
  private started?: Promise<void>;
  private stopped?: Promise<void>;

  constructor(options: WorkerOptions) {
    const settings = resolveWorkerSettings(options);
    this.bus = options.bus;
    this.queues = settings.queues;
    this.registry = options.actions instanceof ActionRegistry ? options.actions : new ActionRegistry(options.actions);
    this.concurrency = settings.concurrency;
    this.prefetch = settings.prefetch;
    this.heartbeatIntervalMs = settings.heartbeatIntervalMs;
    this.startedReportDelayMs = settings.startedReportDelayMs;
    this.shutdownGraceMs = settings.shutdownGraceMs;
    this.resultRetryMs = settings.resultRetryMs;
    this.maxPayloadBytes = settings.maxPayloadBytes;
    this.blobs = options.blobs;
    this.workerId = settings.workerId;
    this.logger = options.logger ?? consoleLogger();
    this.onStepFinished = options.onStepFinished;
    this.slots = new Slots(this.concurrency);
    if (options.announceIntervalMs !== 0) {
      this.announcer = new WorkerAnnouncer({
        bus: this.bus,
        workerId: this.workerId,
        queues: this.queues,
        actions: this.registry.list(),
        intervalMs: options.announceIntervalMs,
        logger: this.logger,
      });
    }
  }

  start(): Promise<void> {
    if (this.stopped) return Promise.reject(new WorkerConfigError('a stopped worker cannot start again; create a new one'));
    this.started ??= this.subscribe();
    return this.started;
  }

  stop(): Promise<void> {
    this.stopped ??= this.shutdown();
    return this.stopped;
  }

  inFlight(): number {
    return this.running.size;
  }

  private async subscribe(): Promise<void> {
    // Listen for cancels first, so none is missed for a step taken right after.
    this.cancels = await this.bus.listen(SUBJECTS.runCancel, (cancel) => this.cancel(cancel));
    try {
      for (const queue of this.queues) {
        const subscription = await this.bus.consume(
          dispatchSubject(queue),
          // Each queue may hold `concurrency + prefetch` dispatches; the shared slots bound what
          // runs, and hand freed slots to the waiting dispatches' runs in turn.
          { group: executorGroup(queue), concurrency: this.concurrency + this.prefetch },
          (delivery) => this.track(this.onDispatch(delivery)),
        );
        this.subscriptions.push(subscription);
      }
    } catch (error) {
      await Promise.allSettled([...this.subscriptions, ...(this.cancels ? [this.cancels] : [])].map((s) => s.drain()));
      this.subscriptions = [];
      this.cancels = undefined;
      throw error;
    }
    await this.announcer?.start();
    this.sampleQueues();
    this.logger.debug('worker started', { workerId: this.workerId, queues: this.queues, concurrency: this.concurrency, prefetch: this.prefetch });
  }

  private async shutdown(): Promise<void> {
    if (!this.started) return;
    await this.started.catch(() => undefined);
    this.logger.debug('worker stopping', { workerId: this.workerId, inFlight: this.running.size });
    await this.announcer?.stop();
    for (const remove of this.unsample.splice(0)) remove();
    // Stop pulling now; drains resolve once our handlers return, so they are awaited last.
    const drained = Promise.allSettled(this.subscriptions.map((s) => s.drain()));
    this.slots.close();
    if (!(await this.idleWithin(this.shutdownGraceMs))) {
      this.graceOver.abort();
      for (const step of this.running) step.controller.abort(new WorkerShutdownError());
    }
    await Promise.allSettled([...this.tasks]);
    await drained;
    // Only now: a cancel for a step that was still finishing had to reach it.
    await this.cancels?.drain();
    this.cancels = undefined;
    this.logger.debug('worker stopped', { workerId: this.workerId });
  }

  /** `weft_executor_queues` and `weft_queue_depth` (the backlog of this worker's consumers), read on scrape. */
  private sampleQueues(): void {
    const queueOf = new Map(this.queues.map((queue) => [executorGroup(queue), queue]));
    this.unsample.push(
      addSampleSource('weft_executor_queues', () => this.queues.map((queue) => ({ labels: { queue }, value: 1 }))),
      addSampleSource('weft_queue_depth', async () =>
        (await this.bus.consumerStats()).flatMap((stats) => {
          const queue = queueOf.get(stats.group);
          return queue === undefined ? [] : [{ labels: { queue }, value: stats.pending }];
        }),
      ),
    );
  }

  private track(task: Promise<void>): Promise<void> {
    this.tasks.add(task);
    void task.finally(() => this.tasks.delete(task)).catch(() => undefined);
    return task;
  }

  /** True once no step runs; false when `ms` passed first. */
  private async idleWithin(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    const idle = Promise.allSettled([...this.tasks]).then(() => true as const);
    try {
      return await Promise.race([idle, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  private cancel(cancel: RunCancel): void {
    this.aborted.add(cancel);
    for (const { dispatch, controller } of this.running) {
      if (dispatch.runId !== cancel.runId) continue;
      if (cancel.stepId !== undefined && cancel.stepId !== dispatch.stepId) continue;
      if (cancel.attempt !== undefined && cancel.attempt !== dispatch.attempt) continue;
      controller.abort(new StepCanceledError(cancel.reason));
    }
  }

  private async onDispatch(delivery: DispatchDelivery): Promise<void> {
    // While waiting for a slot the broker must not think the message is lost.
    const keepAlive = setInterval(() => void this.settle(delivery.working(), 'extend a waiting dispatch'), this.heartbeatIntervalMs);
    const acquired = await this.slots.acquire(delivery.data.runId).finally(() => clearInterval(keepAlive));
    if (!acquired) return this.settle(delivery.nak(), 'hand back a dispatch at shutdown');
    const dispatch = delivery.data;
    try {
      // A killed replica's dispatch comes back after its ack wait, long after the scheduler
      // gave the attempt up (lease expired) and told every executor so: running it is wasted work.
      if (this.aborted.has(dispatch)) {
        this.logger.debug('dropping the dispatch of an attempt the scheduler aborted', { runId: dispatch.runId, stepId: dispatch.stepId, attempt: dispatch.attempt });
        return await this.settle(delivery.ack(), 'ack the dispatch of an aborted attempt');
      }
      // One span per attempt, inside the CONSUMER span the bus opened from the dispatch's traceparent.
      await inSpan(
        `step ${dispatch.action}`,
        {
          attributes: {
            'weft.run.id': dispatch.runId,
            'weft.workflow': dispatch.workflow,
            'weft.step.id': dispatch.stepId,
            'weft.step.attempt': dispatch.attempt,
            'weft.action': dispatch.action,
            'weft.queue': dispatch.queue,
            'weft.worker.id': this.workerId,
          },
        },
        (span) => this.execute(delivery, span),
      );
    } finally {
      this.slots.release();
    }
  }

  private async execute(delivery: DispatchDelivery, span: Span): Promise<void> {
    const dispatch = delivery.data;
    const latency = secondsSincePublished(delivery.headers);
    if (latency !== undefined) recordDispatchLatency(dispatch.queue, latency);
    if (dispatch.attempt > 1) recordStepRetry(dispatch.workflow, dispatch.action);
    const { runId, stepId, attempt, token } = dispatch;
    const log = childLogger(this.logger, { runId, stepId, attempt, action: dispatch.action, workerId: this.workerId });
    const controller = new AbortController();
    const step: RunningStep = { dispatch, controller };
    this.running.add(step);

    // The started heartbeat waits startedReportDelayMs: a step done by then never sends it (its
    // result says it started), so a short step costs the scheduler one message and one transaction.
    let started: Promise<void> | undefined;
    let startTimer: NodeJS.Timeout | undefined;
    const reportStarted = (): void => {
      clearTimeout(startTimer);
      if (started !== undefined) return;
      started = this.bus
        .publish(SUBJECTS.stepHeartbeat, { runId, stepId, attempt, token, workerId: this.workerId, phase: 'started' }, { msgId: `${token}:started` })
        .catch((error: unknown) => log.warn('could not publish the started heartbeat', { error: String(error) }));
    };
    let beats = 0;
    let lastBeatAt = Number.NEGATIVE_INFINITY;
    const beat = (): void => {
      lastBeatAt = performance.now();
      if (started === undefined) {
        // Word from a step that has not said it started yet: that is the word.
        reportStarted();
      } else {
        beats += 1;
        const heartbeat = { runId, stepId, attempt, token, workerId: this.workerId, phase: 'progress' as const };
        void this.settle(this.bus.publish(SUBJECTS.stepHeartbeat, heartbeat), `publish progress heartbeat #${beats}`, log);
      }
      void this.settle(delivery.working(), 'extend the dispatch', log);
    };
    const ctx: ActionContext = {
      runId,
      workflow: dispatch.workflow,
      stepId,
      attempt,
      queue: dispatch.queue,
      signal: controller.signal,
      logger: log,
      // Handlers may call this in a tight loop: one beat per second at most.
      heartbeat: () => {
        if (!controller.signal.aborted && performance.now() - lastBeatAt >= Math.min(1000, this.heartbeatIntervalMs)) beat();
      },
    };

    const startedAt = performance.now();
    const startedAtEpoch = Date.now();
    const timeout = setTimeout(() => controller.abort(new StepTimeoutError(dispatch.timeoutMs)), dispatch.timeoutMs);
    const progress = setInterval(beat, this.heartbeatIntervalMs);
    // The handler never waits for the started heartbeat's PubAck (that wait was on every step's
    // critical path); the result waits for it, so the stream stores it first.
    if (this.startedReportDelayMs > 0) startTimer = setTimeout(reportStarted, this.startedReportDelayMs);
    else reportStarted();
    let outcome: Outcome;
    try {
      log.debug('step started');
      const definition = this.registry.resolve(dispatch.action);
      // Awaited only when needed: the handler starts in the same tick as its started-report timer.
      const input = holdsBlobRefs(dispatch.input) ? await resolveInputRefs(dispatch.input, this.blobs) : dispatch.input;
      const output = await untilAborted(invoke(definition, input, ctx), controller.signal);
      outcome = { kind: 'completed', output: await toResultOutput(output, this.maxPayloadBytes, this.blobs) };
    } catch (thrown) {
      // Once aborted, the abort reason is the story, whatever the handler threw on its way out.
      const reason: unknown = controller.signal.aborted ? controller.signal.reason : thrown;
      outcome = reason instanceof WorkerShutdownError ? { kind: 'handed-back' } : { kind: 'failed', error: toStepError(reason) };
    } finally {
      clearTimeout(timeout);
      clearTimeout(startTimer);
      this.running.delete(step);
    }

    // Still the step's holder until the broker took the result: progress heartbeats go on (the
    // scheduler's lease, the dispatch's ack wait) while the result is retried.
    try {
      await started;
      if (outcome.kind !== 'handed-back') outcome = await this.report(delivery, outcome, startedAtEpoch, log);
      else await this.settle(delivery.nak(), 'hand back the dispatch', log);
    } finally {
      clearInterval(progress);
    }
    recordFinished(dispatch, outcome, performance.now() - startedAt, { workerId: this.workerId, log, span, onStepFinished: this.onStepFinished });
  }

  /**
   * Publishes the result, then acks. A publish that fails for a reason that may pass (the broker
   * unreachable or timing out) is retried with backoff under the same message id, so the broker
   * stores it once; the step is handed back (nak: it runs again, at least once) only when the
   * failure cannot pass, `resultRetryMs` ran out, stop()'s grace period is over, or the scheduler
   * aborted the attempt meanwhile (its result would be ignored).
   */
  private async report(delivery: DispatchDelivery, outcome: Exclude<Outcome, { kind: 'handed-back' }>, startedAt: number, log: ActionLogger): Promise<Outcome> {
    const dispatch = delivery.data;
    const { runId, stepId, attempt, token } = dispatch;
    const base = { runId, stepId, attempt, token, workerId: this.workerId, startedAt, finishedAt: Date.now() };
    const result: StepResult =
      outcome.kind === 'completed' ? { ...base, outcome: 'completed', output: outcome.output } : { ...base, outcome: 'failed', error: outcome.error };
    const msgId = `${token}:result`;
    const giveUpAt = performance.now() + this.resultRetryMs;
    for (let tries = 1; ; tries++) {
      try {
        await this.bus.publish(SUBJECTS.stepResult, result, { msgId });
        if (tries > 1) log.info('published the step result after retrying', { tries });
        break;
      } catch (error) {
        const delayMs = Math.min(RESULT_RETRY_FIRST_DELAY_MS * 2 ** (tries - 1), RESULT_RETRY_MAX_DELAY_MS);
        const giveUp = !mayPassOnRetry(error)
          ? 'the broker will never take it'
          : this.graceOver.signal.aborted
            ? 'the shutdown grace period is over'
            : this.aborted.has(dispatch)
              ? 'the scheduler aborted the attempt'
              : performance.now() + delayMs > giveUpAt
                ? `still failing after ${this.resultRetryMs} ms`
                : undefined;
        if (giveUp !== undefined) {
          log.warn(`could not publish the step result (${giveUp}); handing the dispatch back`, { tries, error: String(error) });
          await this.settle(delivery.nak(), 'hand back the dispatch', log);
          return { kind: 'handed-back', error: toStepError(error) };
        }
        if (tries === 1) log.warn('could not publish the step result; retrying while holding the step', { error: String(error) });
        else log.debug('retrying the step result', { tries, delayMs, error: String(error) });
        await pause(delayMs, this.graceOver.signal);
      }
    }
    await this.settle(delivery.ack(), 'ack the dispatch', log);
    return outcome;
  }

  /** Broker calls whose failure we can only log: the broker redelivers or the lease expires. */
  private settle(operation: Promise<void>, what: string, log: ActionLogger = this.logger): Promise<void> {
    return operation.catch((error: unknown) => log.warn(`could not ${what}`, { error: String(error) }));
  }
}
