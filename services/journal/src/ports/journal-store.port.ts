import type { NewJournalEntry } from '../domain/journal-entry.util';
import type { Checkpoint, EventPage, EventQuery, JournalEntry } from '../domain/journal.types';

/**
 * Where the journal keeps entries and checkpoints. Entries are append-only and
 * unique by event id; a step.completed entry and its checkpoint are written together.
 */
export interface JournalStore {
  /** Appends the entry (and checkpoint); `recorded: false` when the event id is already journaled. */
  record(entry: NewJournalEntry): Promise<{ recorded: boolean }>;
  /** Every entry of a run, in order (time, decision sequence, index); none when the run is of another namespace than `namespace` (absent: any). */
  runEvents(runId: string, namespace?: string): Promise<JournalEntry[]>;
  /** Entries across runs by workflow, type and time range, oldest first, a page at a time. */
  findEvents(query: EventQuery): Promise<EventPage>;
  /** A run's checkpoints in event order (scoped like `runEvents`). */
  checkpoints(runId: string, namespace?: string): Promise<Checkpoint[]>;
  checkpoint(runId: string, stepId: string, namespace?: string): Promise<Checkpoint | undefined>;
  /** Deletes up to `batchSize` entries and up to `batchSize` checkpoints older than `before` (epoch ms). */
  pruneBatch(before: number, batchSize: number): Promise<{ entries: number; checkpoints: number }>;
  /** Database time, epoch ms. */
  now(): Promise<number>;
  /** Waits for calls in flight; later calls reject with STORE_CLOSED. */
  close(): Promise<void>;
}
