import { context, type Link, type Span } from '@opentelemetry/api';
import { TERMINAL_RUN_STATUSES } from '@weft/contracts';
import type { EngineEvent, RunState } from '@weft/core';
import {
  addSampleSource,
  extractTrace,
  markFailed,
  recordRunFinished,
  sharedSample,
  spanContextOf,
  type TraceCarrier,
  traceIdOf,
  tracer,
} from '@weft/telemetry';
import type { RunStore } from '../ports/run-store.port';

/**
 * A run's trace: the context of its `run.start` span, kept with the run's state as an
 * extra field (the core copies unknown fields along, the SQL store keeps them in `extra`).
 * Every message the run sends — at once, after a retry backoff, hours later on a timer —
 * is published as a child of it, so one run is one trace across every service.
 */
interface TracedRunState extends RunState {
  traceContext?: TraceCarrier;
}

export function runTraceContext(state: RunState): TraceCarrier | undefined {
  const carrier = (state as TracedRunState).traceContext;
  return carrier && typeof carrier === 'object' && typeof carrier.traceparent === 'string' ? carrier : undefined;
}

/** The state with its trace context; unchanged when tracing is off (the carrier is empty). */
export function withRunTraceContext(state: RunState, carrier: TraceCarrier): RunState {
  if (carrier.traceparent === undefined) return state;
  const traced: TracedRunState = { ...state, traceContext: carrier };
  return traced;
}

const isTerminal = (status: string | undefined): boolean => status !== undefined && (TERMINAL_RUN_STATUSES as readonly string[]).includes(status);

/**
 * The span and metrics of one `apply`: the span starts once the run is loaded (its
 * trace is known then) and ends after the commit; a run that reached a terminal status
 * is counted only once its transition committed.
 */
export class TransitionTelemetry {
  private span: Span | undefined;
  private finished: { workflow: string; status: string } | undefined;

  /** Called inside the store's transaction (possibly more than once if the store retries). */
  observe(before: RunState, event: EngineEvent, after: RunState | undefined): void {
    this.span?.end();
    this.span = startTransitionSpan(before, event);
    if (after && after !== before) this.span.setAttribute('weft.run.status', after.status);
    this.finished = after && !isTerminal(before.status) && isTerminal(after.status) ? { workflow: after.workflow, status: after.status } : undefined;
  }

  committed(): void {
    if (this.finished) recordRunFinished(this.finished.workflow, this.finished.status);
    this.span?.end();
  }

  failed(error: unknown): never {
    if (this.span) {
      markFailed(this.span, error);
      this.span.end();
    }
    throw error;
  }
}

/**
 * Parent: the active span when there is one (the CONSUMER span of a result, an HTTP
 * request), else the run's own trace (timers and lease scans run detached). When the
 * two differ — a cancel through the API — the span links to the run's trace.
 */
function startTransitionSpan(run: RunState, event: EngineEvent): Span {
  const runContext = runTraceContext(run);
  const active = context.active();
  const parent = traceIdOf(active) !== undefined ? active : extractTrace(runContext);
  const runSpan = spanContextOf(runContext);
  const links: Link[] = runSpan && runSpan.traceId !== traceIdOf(parent) ? [{ context: runSpan }] : [];
  const attributes: Record<string, string | number> = { 'weft.run.id': run.runId, 'weft.workflow': run.workflow, 'weft.event.type': event.type };
  if ('stepId' in event && event.stepId !== undefined) attributes['weft.step.id'] = event.stepId;
  if ('attempt' in event && event.attempt !== undefined) attributes['weft.step.attempt'] = event.attempt;
  if (event.type === 'timer.fired') attributes['weft.timer'] = event.timer;
  return tracer().startSpan(`run.transition ${event.type}`, { attributes, links }, parent);
}

/**
 * `weft_runs_active`, `weft_run_oldest_active_age_seconds`, `weft_outbox_backlog` and
 * `weft_outbox_oldest_age_seconds`, read from the store on scrape (one query for all
 * four). Every replica reports the same database-wide numbers: aggregate with max().
 * Returns the removal.
 */
export function sampleRunStore(store: Pick<RunStore, 'stats'>): () => void {
  const read = sharedSample(() => store.stats());
  const removals = [
    addSampleSource('weft_runs_active', async () => Object.entries((await read()).activeRuns).map(([status, value]) => ({ labels: { status }, value }))),
    addSampleSource('weft_run_oldest_active_age_seconds', async () => [{ value: ((await read()).oldestActiveRunAgeMs ?? 0) / 1000 }]),
    addSampleSource('weft_outbox_backlog', async () => [{ value: (await read()).outboxBacklog }]),
    addSampleSource('weft_outbox_oldest_age_seconds', async () => [{ value: ((await read()).oldestOutboxAgeMs ?? 0) / 1000 }]),
  ];
  return () => {
    for (const remove of removals) remove();
  };
}

/** `weft_scheduler_active_runs`: the runs this replica counts as active (SharedWindows), per process. Returns the removal. */
export function sampleActiveRuns(windows: { readonly active: number }): () => void {
  return addSampleSource('weft_scheduler_active_runs', () => [{ value: windows.active }]);
}
