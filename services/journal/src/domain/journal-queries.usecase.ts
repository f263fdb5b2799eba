import type { JournalStore } from '../ports/journal-store.port';
import { JournalError } from './journal.errors';
import type { Checkpoint, EventPage, EventQuery, RunHistory, RunReconstruction } from './journal.types';
import { reconstructRun, runHistory } from './run-fold.util';

/** What the journal answers: a run's story, its events and checkpoints, and events across runs. */
export class JournalQueries {
  constructor(private readonly store: JournalStore) {}

  /** Everything the journal knows about a run. Throws RUN_NOT_FOUND. */
  async reconstruct(runId: string): Promise<RunReconstruction> {
    const [events, checkpoints] = await Promise.all([this.store.runEvents(runId), this.store.checkpoints(runId)]);
    const reconstruction = reconstructRun(events, checkpoints);
    if (!reconstruction) throw new JournalError('RUN_NOT_FOUND', `the journal has no entry for run ${runId}`);
    return reconstruction;
  }

  /** The readable story of a run: summary, steps, one line per event. Throws RUN_NOT_FOUND. */
  async history(runId: string): Promise<RunHistory> {
    return runHistory(await this.reconstruct(runId));
  }

  /** A run's events, filtered and paged. Throws RUN_NOT_FOUND for a run without entries. */
  async runEvents(runId: string, query: Omit<EventQuery, 'runId' | 'workflow'> = {}): Promise<EventPage> {
    const page = await this.store.findEvents({ ...query, runId });
    if (page.items.length === 0 && query.after === undefined) await this.assertRunKnown(runId);
    return page;
  }

  events(query: EventQuery): Promise<EventPage> {
    return this.store.findEvents(query);
  }

  /** Throws RUN_NOT_FOUND for a run without entries. */
  async checkpoints(runId: string): Promise<Checkpoint[]> {
    const checkpoints = await this.store.checkpoints(runId);
    if (checkpoints.length === 0) await this.assertRunKnown(runId);
    return checkpoints;
  }

  /** Throws RUN_NOT_FOUND or CHECKPOINT_NOT_FOUND. */
  async checkpoint(runId: string, stepId: string): Promise<Checkpoint> {
    const checkpoint = await this.store.checkpoint(runId, stepId);
    if (checkpoint) return checkpoint;
    await this.assertRunKnown(runId);
    throw new JournalError('CHECKPOINT_NOT_FOUND', `run ${runId} has no checkpoint for step ${stepId} (it did not complete, or was pruned)`);
  }

  private async assertRunKnown(runId: string): Promise<void> {
    const page = await this.store.findEvents({ runId, limit: 1 });
    if (page.items.length === 0) throw new JournalError('RUN_NOT_FOUND', `the journal has no entry for run ${runId}`);
  }
}
