import { dispatchSubject, eventSubject, type LifecycleEvent, type RunCancel, type RunCancelRequested, type RunRequested, type RateRequested, type SlotReleased, type SlotRequested, type StepDispatch, type StepResult, SUBJECTS } from '@weft/contracts';
import type { Decision, RunState } from '@weft/core';
import type { OutboxMessage, TimerKey, TimerRecord, Transition } from '../ports/run-store.port';
import type { WaitCommand } from '../ports/wait-store.port';
import { runTraceContext } from './run-telemetry.util';

// A decision's events mostly share one time (a cancel's 50,000), and decisions made in the same
// millisecond share it too (embedded W2: several per ms): the last time's ISO string is kept.
let lastAt: number | undefined;
let lastIso = '';
function isoAt(at: number): string {
  if (at !== lastAt) {
    lastIso = new Date(at).toISOString();
    lastAt = at;
  }
  return lastIso;
}

/**
 * Turns the core's commands into what the store writes in the same transaction:
 * outbox messages and timers. The committing process publishes its rows right after the
 * commit (CommittedRowsPublisher); the relay is the fallback (OutboxRelay). Returns
 * undefined when nothing changed, so the store writes nothing.
 */
export function toTransition(before: RunState | undefined, decision: Decision<RunState>, extraCancel: TimerKey[] = []): Transition | undefined {
  const { state, commands } = decision;
  if (state === before && commands.length === 0 && extraCancel.length === 0) return undefined;
  const outbox: OutboxMessage[] = [];
  const schedule: TimerRecord[] = [];
  const cancel: TimerKey[] = [...extraCancel];
  const waits: WaitCommand[] = [];
  let eventIndex = 0;
  for (const command of commands) {
    switch (command.type) {
      case 'dispatch':
        outbox.push({
          kind: 'publish',
          subject: dispatchSubject(command.queue),
          // A re-sent dispatch needs its own id, or the broker would drop it as a duplicate.
          msgId: command.resend ? `${command.token}:resend-${command.resend}` : command.token,
          payload: {
            runId: state.runId,
            workflow: state.workflow,
            stepId: command.stepId,
            attempt: command.attempt,
            token: command.token,
            action: command.action,
            input: command.input,
            queue: command.queue,
            timeoutMs: command.timeoutMs,
          } satisfies StepDispatch,
        });
        break;
      case 'abort-step':
        outbox.push({
          kind: 'broadcast',
          subject: SUBJECTS.runCancel,
          msgId: `${command.token}:abort`,
          payload: { runId: state.runId, stepId: command.stepId, attempt: command.attempt, reason: command.reason } satisfies RunCancel,
        });
        break;
      case 'abort-run':
        // One broadcast for the run however many attempts it stops: executors abort every attempt of the run they hold.
        outbox.push({
          kind: 'broadcast',
          subject: SUBJECTS.runCancel,
          msgId: `${state.runId}:${state.seq}:abort`,
          payload: { runId: state.runId, reason: command.reason } satisfies RunCancel,
        });
        break;
      case 'schedule-timer':
        schedule.push({ runId: state.runId, timer: command.timer, stepId: command.stepId ?? '', attempt: command.attempt, fireAt: command.fireAt });
        break;
      case 'cancel-timer':
        cancel.push({ runId: state.runId, timer: command.timer, stepId: command.stepId ?? '' });
        break;
      case 'start-child':
        // Idempotent by the parent attempt's token: a replayed row (a crash after the commit) names the same child.
        outbox.push({
          kind: 'publish',
          subject: SUBJECTS.runRequested,
          msgId: `child:${command.token}`,
          payload: {
            idempotencyKey: command.token,
            runId: command.childRunId,
            workflow: command.workflow,
            ...(command.version !== undefined && { version: command.version }),
            inputs: command.inputs,
            namespace: state.namespace,
            ...(state.correlationId !== undefined && { correlationId: state.correlationId }),
            source: `parent:${state.runId}`,
            parent: { runId: state.runId, stepId: command.stepId, attempt: command.attempt, token: command.token, depth: command.depth },
          } satisfies RunRequested,
        });
        break;
      case 'cancel-child':
        outbox.push({
          kind: 'publish',
          subject: SUBJECTS.runCancelRequested,
          msgId: `cancel:${command.childRunId}`,
          payload: { runId: command.childRunId, reason: command.reason, by: state.runId } satisfies RunCancelRequested,
        });
        break;
      case 'acquire-slot':
        outbox.push({
          kind: 'publish',
          subject: SUBJECTS.slotRequested,
          msgId: `slot-request:${command.token}`,
          payload: { ...permitRequest(state, command), priority: command.priority, ...(command.strategy !== undefined && { strategy: command.strategy }) } satisfies SlotRequested,
        });
        break;
      case 'release-slot':
        outbox.push({
          kind: 'publish',
          subject: SUBJECTS.slotReleased,
          msgId: `slot-release:${command.token}`,
          payload: { token: command.token, namespace: state.namespace, scope: command.scope, key: command.key, runId: state.runId, stepId: command.stepId } satisfies SlotReleased,
        });
        break;
      case 'acquire-rate':
        outbox.push({
          kind: 'publish',
          subject: SUBJECTS.rateRequested,
          msgId: `rate-request:${command.token}`,
          payload: { ...permitRequest(state, command), periodMs: command.periodMs, burst: command.burst } satisfies RateRequested,
        });
        break;
      case 'notify-parent': {
        // The child's end is the parent attempt's result: the scheduler applies it like a worker's.
        const { parent } = command;
        const base = { runId: parent.runId, stepId: parent.stepId, attempt: parent.attempt, token: parent.token, workerId: `run:${state.runId}` };
        const result: StepResult =
          command.status === 'completed'
            ? { ...base, outcome: 'completed', output: command.outputs ?? {} }
            : { ...base, outcome: 'failed', error: command.error ?? { code: 'CHILD_FAILED', message: `child run ${state.runId} ${command.status}`, retryable: false } };
        outbox.push({ kind: 'publish', subject: SUBJECTS.stepResult, msgId: `child-end:${state.runId}:${state.seq}`, payload: result });
        break;
      }
      case 'register-wait':
      case 'cancel-wait':
      case 'open-review':
      case 'escalate-review':
      case 'close-review':
        waits.push(command);
        break;
      case 'emit': {
        const eventId = `${state.runId}:${state.seq}:${eventIndex++}`;
        const { event } = command;
        // Assigned, not spread: events of one kind then share one shape (a spread of 50,000 of them, a
        // big run's cancel, gave each a hidden class of its own and made every later read of them slow).
        const payload: LifecycleEvent = {
          eventId,
          type: event.type,
          runId: state.runId,
          workflow: state.workflow,
          version: state.version,
          namespace: state.namespace,
          status: event.status,
          at: isoAt(event.at),
        };
        if (event.stepId !== undefined) payload.stepId = event.stepId;
        if (event.attempt !== undefined) payload.attempt = event.attempt;
        if (event.durationMs !== undefined) payload.durationMs = event.durationMs;
        if (event.error !== undefined) payload.error = event.error;
        if (event.data !== undefined) payload.data = event.data;
        if (state.correlationId !== undefined) payload.correlationId = state.correlationId;
        outbox.push({ kind: 'publish', subject: eventSubject(event.type), msgId: eventId, payload });
        break;
      }
    }
  }
  // Every message carries the run's trace context; its publish (after commit, or by the relay) is a child span.
  const trace = runTraceContext(state);
  if (trace) for (const message of outbox) message.headers = { ...trace, ...message.headers };
  return { state, outbox, schedule, cancel, ...(waits.length > 0 && { waits }) };
}

type PermitCommand = Extract<Decision<RunState>['commands'][number], { type: 'acquire-slot' | 'acquire-rate' }>;

/** What a slot request and a rate-permit request share: who asks, for which limit. */
function permitRequest(state: RunState, command: PermitCommand) {
  return { token: command.token, namespace: state.namespace, scope: command.scope, key: command.key, runId: state.runId, stepId: command.stepId, limit: command.limit };
}
