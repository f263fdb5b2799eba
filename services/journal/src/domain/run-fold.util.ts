import { formatMs } from '@weft/core';
import { Actor, type RunStatus, type StepError } from '@weft/contracts';
import { compareEntries } from './journal-entry.util';
import type { AttemptHistory, Checkpoint, JournalEntry, RunHistory, RunReconstruction, RunSummary, StepHistory, TimelineItem } from './journal.types';
import { foldReviewDecided, foldReviewRequested, foldWait } from './wait-fold.util';

/**
 * Folds a run's journal into the story of the run: run state, steps with their
 * attempts and errors, checkpoints. Pure; entries may come in any order.
 */
export function reconstructRun(entries: readonly JournalEntry[], checkpoints: readonly Checkpoint[]): RunReconstruction | undefined {
  const events = [...entries].sort(compareEntries);
  const first = events[0];
  if (first === undefined) return undefined;
  const run: RunSummary = {
    runId: first.runId,
    workflow: first.workflow,
    version: first.version,
    status: 'unknown',
    correlationId: null,
    traceId: null,
    queuedAt: null,
    startedAt: null,
    finishedAt: null,
    durationMs: null,
    inputs: null,
    outputs: null,
    error: null,
    restarts: 0,
    events: events.length,
  };
  const steps = new Map<string, StepHistory>();
  for (const entry of events) {
    run.correlationId ??= entry.correlationId;
    run.traceId ??= entry.traceId;
    if (entry.stepId !== null) applyStepEvent(stepOf(steps, entry.stepId), entry);
    else applyRunEvent(run, entry);
  }
  const ordered = [...checkpoints].sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || compareIds(a.eventId, b.eventId));
  for (const checkpoint of ordered) {
    const step = steps.get(checkpoint.stepId);
    if (step) step.output = checkpoint.output;
  }
  const notes: string[] = [];
  if (first.type !== 'run.queued') notes.push(`the journal starts at ${first.type} (${first.at}): earlier entries were pruned or never received`);
  if (run.status === 'unknown') notes.push('no run event left in the journal: the run status is unknown');
  return { run, steps: [...steps.values()], events, checkpoints: ordered, notes };
}

/** Who started the run, as its run.queued event says (older runs carry neither). */
function foldOrigin(run: RunSummary, data: Record<string, unknown> | null): void {
  const source = data?.['source'];
  if (typeof source === 'string') run.source = source;
  const actor = Actor.safeParse(data?.['actor']);
  if (actor.success) run.actor = actor.data;
}

/** The readable story: run, steps and one line per event. */
export function runHistory(reconstruction: RunReconstruction): RunHistory {
  const origin = Date.parse(reconstruction.events[0]?.at ?? new Date(0).toISOString());
  const timeline: TimelineItem[] = reconstruction.events.map((entry) => ({
    at: entry.at,
    offsetMs: Date.parse(entry.at) - origin,
    type: entry.type,
    stepId: entry.stepId,
    attempt: entry.attempt,
    status: entry.status,
    durationMs: entry.durationMs,
    error: entry.error,
    text: describeEvent(entry),
  }));
  return {
    run: reconstruction.run,
    ...(reconstruction.parent !== undefined && { parent: reconstruction.parent }),
    ...(reconstruction.children !== undefined && { children: reconstruction.children }),
    steps: reconstruction.steps,
    timeline,
    notes: reconstruction.notes,
  };
}

function applyRunEvent(run: RunSummary, entry: JournalEntry): void {
  switch (entry.type) {
    case 'run.queued':
      run.status = 'queued';
      run.queuedAt = entry.at;
      run.inputs = recordOf(entry.data?.['inputs']);
      foldOrigin(run, entry.data);
      return;
    case 'run.started':
      if (entry.data?.['retry'] === true) {
        run.restarts += 1;
        run.finishedAt = null;
        run.durationMs = null;
        run.error = null;
        run.outputs = null;
      }
      run.status = 'running';
      run.startedAt ??= entry.at;
      return;
    case 'run.waiting':
      run.status = 'waiting';
      return;
    case 'run.completed':
    case 'run.partially_completed':
    case 'run.failed':
    case 'run.canceled':
      run.status = entry.status as RunStatus;
      run.finishedAt = entry.at;
      run.durationMs = entry.durationMs;
      run.error = entry.error;
      run.outputs = recordOf(entry.data?.['outputs']);
      return;
    case 'step.queued':
    case 'step.started':
    case 'step.completed':
    case 'step.failed':
    case 'step.retrying':
    case 'step.skipped':
    case 'step.canceled':
    case 'step.timed_out':
    case 'step.waiting':
    case 'review.requested':
    case 'review.decided':
      // A step or review event without a step id: nothing about the run itself to fold.
      return;
  }
}

function applyStepEvent(step: StepHistory, entry: JournalEntry): void {
  const attempt = entry.attempt === null ? undefined : attemptOf(step, entry.attempt);
  switch (entry.type) {
    case 'step.queued':
      if (attempt) {
        attempt.status = 'queued';
        attempt.queuedAt = entry.at;
        attempt.queue = stringOf(entry.data?.['queue']);
        attempt.action = stringOf(entry.data?.['action']);
      }
      step.status = 'queued';
      step.startedAt ??= entry.at;
      step.finishedAt = null;
      step.durationMs = null;
      return;
    case 'step.started':
      if (attempt) {
        attempt.status = 'running';
        attempt.startedAt = entry.at;
        attempt.workerId = stringOf(entry.data?.['workerId']);
      }
      step.status = 'running';
      step.startedAt ??= entry.at;
      return;
    case 'step.completed':
      if (attempt) endAttempt(attempt, 'completed', entry, null);
      // A forEach step whose items did not all complete ends partially_completed, with the items' error.
      step.error = entry.status === 'partially_completed' ? entry.error : null;
      finishStep(step, entry.status === 'partially_completed' ? 'partially_completed' : 'completed', entry);
      return;
    case 'step.retrying':
      if (attempt) {
        endAttempt(attempt, 'failed', entry, entry.error);
        attempt.retryDelayMs = numberOf(entry.data?.['delayMs']);
      }
      step.status = 'retrying';
      step.error = entry.error;
      return;
    case 'step.timed_out':
      if (attempt) {
        attempt.timedOut = true;
        attempt.error = entry.error;
      }
      return;
    case 'step.failed':
      // A step that failed before any attempt ran (an expression error) has attempt 0 and no attempt record.
      if (attempt && attempt.finishedAt === null) endAttempt(attempt, 'failed', entry, entry.error);
      step.error = entry.error;
      finishStep(step, 'failed', entry);
      return;
    case 'step.skipped':
      step.reason = stringOf(entry.data?.['reason']);
      finishStep(step, 'skipped', entry);
      return;
    case 'step.canceled':
      if (attempt && attempt.finishedAt === null) endAttempt(attempt, 'canceled', entry, null);
      step.reason = stringOf(entry.data?.['reason']);
      finishStep(step, 'canceled', entry);
      return;
    case 'step.waiting':
      // A durable sleep or a wait for a signal: the scheduler holds it, no worker runs it.
      step.startedAt ??= entry.at;
      step.status = 'waiting';
      foldWait(step, entry);
      return;
    case 'review.requested':
      step.status = 'waiting';
      foldReviewRequested(step, entry);
      return;
    case 'review.decided':
      // The step events that follow (completed, failed, queued again) carry its state.
      foldReviewDecided(step, entry);
      return;
    case 'run.queued':
    case 'run.started':
    case 'run.waiting':
    case 'run.completed':
    case 'run.partially_completed':
    case 'run.failed':
    case 'run.canceled':
      // Carries no step state of its own: the step events that follow do.
      return;
  }
}

function stepOf(steps: Map<string, StepHistory>, stepId: string): StepHistory {
  let step = steps.get(stepId);
  if (!step) {
    step = { stepId, status: 'pending', attempts: [], startedAt: null, finishedAt: null, durationMs: null, error: null, reason: null };
    steps.set(stepId, step);
  }
  return step;
}

/** Attempt 0 means "before any attempt" (skips, expression failures): no record. */
function attemptOf(step: StepHistory, number: number): AttemptHistory | undefined {
  if (number < 1) return undefined;
  let attempt = step.attempts.find((a) => a.attempt === number);
  if (!attempt) {
    attempt = {
      attempt: number,
      status: 'queued',
      queuedAt: null,
      startedAt: null,
      finishedAt: null,
      durationMs: null,
      workerId: null,
      queue: null,
      action: null,
      error: null,
      timedOut: false,
      retryDelayMs: null,
    };
    step.attempts.push(attempt);
    step.attempts.sort((a, b) => a.attempt - b.attempt);
  }
  return attempt;
}

function endAttempt(attempt: AttemptHistory, status: AttemptHistory['status'], entry: JournalEntry, error: StepError | null): void {
  attempt.status = status;
  attempt.finishedAt = entry.at;
  const since = attempt.startedAt ?? attempt.queuedAt;
  attempt.durationMs = entry.durationMs ?? (since === null ? null : Date.parse(entry.at) - Date.parse(since));
  if (error !== null) attempt.error = error;
}

function finishStep(step: StepHistory, status: StepHistory['status'], entry: JournalEntry): void {
  step.status = status;
  step.finishedAt = entry.at;
  step.durationMs = step.startedAt === null ? null : Date.parse(entry.at) - Date.parse(step.startedAt);
}

/** One readable line per event. */
export function describeEvent(entry: JournalEntry): string {
  const step = entry.stepId ?? '?';
  const attempt = entry.attempt !== null && entry.attempt > 0 ? ` attempt ${entry.attempt}` : '';
  const took = entry.durationMs !== null ? ` in ${formatMs(entry.durationMs)}` : '';
  const err = entry.error ? `: ${entry.error.code} ${entry.error.message}` : '';
  const data = entry.data ?? {};
  const reason = typeof data['reason'] === 'string' ? `: ${data['reason']}` : '';
  switch (entry.type) {
    case 'run.queued':
      return `run queued (${entry.workflow} version ${entry.version})`;
    case 'run.started':
      return data['retry'] === true ? `run restarted to retry its unfinished steps${reason}` : 'run started';
    case 'run.waiting':
      return 'run waiting';
    case 'run.completed':
      return `run completed${took}`;
    case 'run.partially_completed':
      return `run partially completed${took}${err}`;
    case 'run.failed':
      return `run failed${took}${err}`;
    case 'run.canceled':
      return `run canceled${took}${err}`;
    case 'step.queued': {
      const where = typeof data['queue'] === 'string' ? ` on queue ${data['queue']}` : '';
      const action = typeof data['action'] === 'string' ? ` (${data['action']})` : '';
      return `${step}${attempt} queued${where}${action}`;
    }
    case 'step.started':
      return `${step}${attempt} started${typeof data['workerId'] === 'string' ? ` on ${data['workerId']}` : ''}`;
    case 'step.completed':
      return `${step} completed${took}${attempt ? ` (${attempt.trim()})` : ''}`;
    case 'step.retrying': {
      const delay = typeof data['delayMs'] === 'number' ? ` in ${formatMs(data['delayMs'])}` : '';
      return `${step}${attempt} failed${err}; retrying${delay}`;
    }
    case 'step.timed_out':
      return `${step}${attempt} timed out${typeof data['timeoutMs'] === 'number' ? ` after ${formatMs(data['timeoutMs'])}` : ''}`;
    case 'step.failed':
      return `${step} failed${attempt ? ` on${attempt}` : ''}${err}`;
    case 'step.skipped':
      return `${step} skipped${reason}`;
    case 'step.canceled':
      return `${step} canceled${reason}`;
    case 'step.waiting':
      return data['wait'] === 'sleep' ? `${step}${attempt} sleeping until ${String(data['until'])}` : `${step}${attempt} waiting for signal ${String(data['event'])}${typeof data['key'] === 'string' ? ` (key ${data['key']})` : ''}`;
    case 'review.requested': {
      const who = Array.isArray(data['assignees']) && data['assignees'].length > 0 ? ` (assignees ${data['assignees'].join(', ')})` : '';
      if (data['escalated'] === true) return `review of ${step} escalated to tier ${String(data['tier'])}${who}${actorText(data['actor'])}${typeof data['comment'] === 'string' ? ` (${data['comment']})` : ''}`;
      if (data['overdue'] === true) return `review of ${step} overdue${who}`;
      return `review requested for ${step}${typeof data['title'] === 'string' ? `: ${data['title']}` : ''}${who}`;
    }
    case 'review.decided':
      return `review decided for ${step}${typeof data['decision'] === 'string' ? `: ${data['decision']}` : ''}${actorText(data['actor'])}${typeof data['comment'] === 'string' ? ` (${data['comment']})` : ''}`;
  }
}

/** ` by <name> (<key id>)`, ` by local`, or nothing: who decided a review. */
function actorText(actor: unknown): string {
  if (actor === 'local') return ' by local';
  if (typeof actor !== 'object' || actor === null || !('keyId' in actor) || typeof actor.keyId !== 'string') return '';
  const name = 'name' in actor && typeof actor.name === 'string' && actor.name !== '' ? `${actor.name} ` : '';
  return ` by ${name}(${actor.keyId})`;
}

/** People's durations (850ms, 1.25s, 3m05s): @weft/core's, re-exported for the views that read this module. */
export { formatMs };

const recordOf = (value: unknown): Record<string, unknown> | null =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
const stringOf = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const numberOf = (value: unknown): number | null => (typeof value === 'number' ? value : null);
const compareIds = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
