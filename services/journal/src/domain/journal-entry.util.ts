import type { Headers } from '@weft/bus';
import { DEFAULT_NAMESPACE, type LifecycleEvent } from '@weft/contracts';
import { JournalError } from './journal.errors';
import type { JournalEntry } from './journal.types';

/** A journal entry about to be written, with the output of a completed step set aside for its checkpoint. */
export interface NewJournalEntry {
  entry: JournalEntry;
  /** The run's namespace (events of older producers carry none: `default`). */
  namespace: string;
  /** Present for step.completed: the checkpoint's output (undefined output becomes null). */
  checkpointOutput?: unknown;
}

const EVENT_ID = /^(.+):(\d{1,9}):(\d{1,9})$/;
const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** `<runId>:<seq>:<n>` -> { seq, index }; zeros for ids of another shape (they then sort by time and id only). */
export function eventPosition(eventId: string, runId: string): { seq: number; index: number } {
  const match = EVENT_ID.exec(eventId);
  if (!match || match[1] !== runId) return { seq: 0, index: 0 };
  return { seq: Number(match[2]), index: Number(match[3]) };
}

/** The trace id of a W3C `traceparent` header, if well formed. */
export function traceIdOf(headers: Headers): string | undefined {
  const value = headers['traceparent'] ?? headers['Traceparent'];
  const match = value === undefined ? null : TRACEPARENT.exec(value.trim());
  return match?.[1];
}

/**
 * Validates what the contract cannot express and shapes the entry. Throws
 * JournalError INVALID_EVENT for an event that can never be recorded (the consumer
 * terms it): a step event without a step, a time that does not parse.
 */
export function toJournalEntry(event: LifecycleEvent, headers: Headers = {}): NewJournalEntry {
  const time = Date.parse(event.at);
  if (Number.isNaN(time)) throw new JournalError('INVALID_EVENT', `event ${event.eventId}: "at" is not a time (${JSON.stringify(event.at)})`);
  const isStep = event.type.startsWith('step.');
  if (isStep && (event.stepId === undefined || event.stepId === '')) {
    throw new JournalError('INVALID_EVENT', `event ${event.eventId}: ${event.type} without a stepId`);
  }
  if (event.eventId === '' || event.runId === '') throw new JournalError('INVALID_EVENT', 'event without an eventId or runId');

  let data = event.data ?? null;
  let checkpointOutput: unknown;
  const completed = event.type === 'step.completed';
  if (completed && data !== null && 'output' in data) {
    // The output lives in the checkpoint; keeping a second copy in the entry only doubles the bytes.
    const { output, ...rest } = data;
    checkpointOutput = output;
    data = Object.keys(rest).length > 0 ? rest : null;
  }
  const { seq, index } = eventPosition(event.eventId, event.runId);
  const entry: JournalEntry = {
    eventId: event.eventId,
    runId: event.runId,
    workflow: event.workflow,
    version: event.version,
    stepId: event.stepId ?? null,
    attempt: event.attempt ?? null,
    type: event.type,
    status: event.status,
    at: new Date(time).toISOString(),
    durationMs: event.durationMs ?? null,
    error: event.error ?? null,
    correlationId: event.correlationId ?? null,
    traceId: event.traceId ?? traceIdOf(headers) ?? null,
    data,
    seq,
    index,
  };
  const namespace = event.namespace ?? DEFAULT_NAMESPACE;
  return completed ? { entry, namespace, checkpointOutput: checkpointOutput ?? null } : { entry, namespace };
}

/** Total order of a run's events: time, then the scheduler's decision sequence, then the event id. */
export function compareEntries(a: JournalEntry, b: JournalEntry): number {
  const byTime = Date.parse(a.at) - Date.parse(b.at);
  if (byTime !== 0) return byTime;
  if (a.seq !== b.seq) return a.seq - b.seq;
  if (a.index !== b.index) return a.index - b.index;
  return a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0;
}

/**
 * The state a checkpoint records: outputs of the steps completed before it (in event
 * order, a later completion of a step wins), plus its own.
 */
export function accumulateState(earlier: readonly { stepId: string; output: unknown }[], own: { stepId: string; output: unknown }): Record<string, unknown> {
  const state: Record<string, unknown> = {};
  for (const checkpoint of earlier) state[checkpoint.stepId] = checkpoint.output;
  state[own.stepId] = own.output;
  return state;
}
