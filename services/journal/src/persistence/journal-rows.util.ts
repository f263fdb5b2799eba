import type { LifecycleEventType, RunStatus, StepError, StepStatus } from '@weft/contracts';
import { JournalError } from '../domain/journal.errors';
import type { Checkpoint, JournalEntry } from '../domain/journal.types';

// How journal rows read and write: the SqlJournalStore's column mapping and cursors.

export interface EntryRow {
  id: string;
  event_id: string;
  run_id: string;
  workflow: string;
  version: string;
  step_id: string | null;
  attempt: number | null;
  type: LifecycleEventType;
  status: RunStatus | StepStatus;
  at: Date | string;
  seq: number;
  idx: number;
  duration_ms: number | null;
  error: StepError | null;
  correlation_id: string | null;
  trace_id: string | null;
  data: Record<string, unknown> | null;
}

export interface CheckpointRow {
  run_id: string;
  step_id: string;
  workflow: string;
  version: string;
  attempt: number | null;
  event_id: string;
  at: Date | string;
  output: unknown;
  state: Record<string, unknown>;
}

export function rowToEntry(row: EntryRow): JournalEntry {
  return {
    eventId: row.event_id,
    runId: row.run_id,
    workflow: row.workflow,
    version: row.version,
    stepId: row.step_id,
    attempt: row.attempt,
    type: row.type,
    status: row.status,
    at: iso(millis(row.at)),
    durationMs: row.duration_ms === null ? null : Number(row.duration_ms),
    error: row.error,
    correlationId: row.correlation_id,
    traceId: row.trace_id,
    data: row.data,
    seq: row.seq,
    index: row.idx,
  };
}

export function rowToCheckpoint(row: CheckpointRow): Checkpoint {
  return {
    runId: row.run_id,
    workflow: row.workflow,
    version: row.version,
    stepId: row.step_id,
    attempt: row.attempt,
    eventId: row.event_id,
    at: iso(millis(row.at)),
    output: row.output,
    state: row.state,
  };
}

export interface Cursor {
  at: number;
  seq: number;
  index: number;
  id: string;
}

const CURSOR = /^(\d{1,15})\.(\d{1,9})\.(\d{1,9})\.(\d{1,19})$/;

/** `<atMs>.<seq>.<index>.<id>`: the position of the last entry of a page. */
export function formatCursor(cursor: Cursor): string {
  return `${cursor.at}.${cursor.seq}.${cursor.index}.${cursor.id}`;
}

export function parseCursor(text: string): Cursor {
  const match = CURSOR.exec(text);
  if (!match) throw new JournalError('INVALID_QUERY', `after: not a cursor from a previous page (${JSON.stringify(text)})`);
  return { at: Number(match[1]), seq: Number(match[2]), index: Number(match[3]), id: match[4] ?? '0' };
}

export function entryParams(entry: JournalEntry, namespace: string): unknown[] {
  return [
    entry.eventId,
    entry.runId,
    entry.workflow,
    entry.version,
    entry.stepId,
    entry.attempt,
    entry.type,
    entry.status,
    entry.at,
    entry.seq,
    entry.index,
    entry.durationMs,
    jsonOrNull(entry.error),
    entry.correlationId,
    entry.traceId,
    jsonOrNull(entry.data),
    namespace,
  ];
}

export const jsonOrNull = (value: unknown): string | null => (value === null || value === undefined ? null : JSON.stringify(value));
export const iso = (ms: number): string => new Date(ms).toISOString();
export const millis = (value: Date | string): number => (value instanceof Date ? value.getTime() : new Date(value).getTime());
