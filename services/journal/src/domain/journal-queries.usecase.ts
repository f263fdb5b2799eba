import type { JournalStore } from '../ports/journal-store.port';
import { withOutputLinks } from './checkpoint-links.util';
import { JournalError } from './journal.errors';
import type { Checkpoint, EventPage, EventQuery, NamespaceScope, RunHistory, RunReconstruction } from './journal.types';
import { reconstructRun, runHistory } from './run-fold.util';
import { childTree, parentLink } from './run-tree.util';

/**
 * What the journal answers: a run's story, its events and checkpoints, and events across
 * runs. Every question names whose entries it may read: a run of another namespace is
 * answered exactly like a run the journal never saw (RUN_NOT_FOUND), never with a hint.
 */
export class JournalQueries {
  constructor(private readonly store: JournalStore) {}

  /**
   * Everything the journal knows about a run, with the run that started it and the tree of
   * sub-workflow runs below it (each child read in the same namespace). Throws RUN_NOT_FOUND.
   */
  async reconstruct(runId: string, namespace: NamespaceScope): Promise<RunReconstruction> {
    const scope = namespace ?? undefined;
    const [events, checkpoints] = await Promise.all([this.store.runEvents(runId, scope), this.store.checkpoints(runId, scope)]);
    const reconstruction = reconstructRun(events, checkpoints);
    if (!reconstruction) throw notFound(runId);
    const parent = parentLink(reconstruction.events);
    if (parent !== undefined) reconstruction.parent = parent;
    const tree = await childTree(reconstruction.events, (child) => this.store.runEvents(child, scope));
    if (tree.children.length > 0) reconstruction.children = tree.children;
    reconstruction.notes.push(...tree.notes);
    return reconstruction;
  }

  /** The readable story of a run: summary, steps, one line per event. Throws RUN_NOT_FOUND. */
  async history(runId: string, namespace: NamespaceScope): Promise<RunHistory> {
    return runHistory(await this.reconstruct(runId, namespace));
  }

  /** A run's events, filtered and paged. Throws RUN_NOT_FOUND for a run without entries. */
  async runEvents(runId: string, namespace: NamespaceScope, query: Omit<EventQuery, 'runId' | 'workflow' | 'namespace'> = {}): Promise<EventPage> {
    const page = await this.store.findEvents({ ...query, runId, ...scoped(namespace) });
    if (page.items.length === 0 && query.after === undefined) await this.assertRunKnown(runId, namespace);
    return page;
  }

  events(query: Omit<EventQuery, 'namespace'>, namespace: NamespaceScope): Promise<EventPage> {
    return this.store.findEvents({ ...query, ...scoped(namespace) });
  }

  /** Throws RUN_NOT_FOUND for a run without entries. */
  async checkpoints(runId: string, namespace: NamespaceScope): Promise<Checkpoint[]> {
    const checkpoints = await this.store.checkpoints(runId, namespace ?? undefined);
    if (checkpoints.length === 0) await this.assertRunKnown(runId, namespace);
    return checkpoints.map(withOutputLinks);
  }

  /** Throws RUN_NOT_FOUND or CHECKPOINT_NOT_FOUND. */
  async checkpoint(runId: string, stepId: string, namespace: NamespaceScope): Promise<Checkpoint> {
    const checkpoint = await this.store.checkpoint(runId, stepId, namespace ?? undefined);
    if (checkpoint) return withOutputLinks(checkpoint);
    await this.assertRunKnown(runId, namespace);
    throw new JournalError('CHECKPOINT_NOT_FOUND', `run ${runId} has no checkpoint for step ${stepId} (it did not complete, or was pruned)`);
  }

  private async assertRunKnown(runId: string, namespace: NamespaceScope): Promise<void> {
    const page = await this.store.findEvents({ runId, limit: 1, ...scoped(namespace) });
    if (page.items.length === 0) throw notFound(runId);
  }
}

const scoped = (namespace: NamespaceScope): { namespace?: string } => (namespace === null ? {} : { namespace });
const notFound = (runId: string): JournalError => new JournalError('RUN_NOT_FOUND', `the journal has no entry for run ${runId}`);
