import type { LifecycleEvent } from '@weft/contracts';
import { lifecycleEvent } from '../testing/journal.fixtures';
import type { JournalStore } from '../ports/journal-store.port';
import { toJournalEntry } from './journal-entry.util';
import { JournalQueries } from './journal-queries.usecase';
import type { JournalEntry } from './journal.types';
import { childLinks, MAX_TREE_RUNS } from './run-tree.util';

/** A run that queues, starts, (optionally) waits in `step` for each child, and completes after `ms`. */
function run(runId: string, options: { parent?: [string, string]; children?: [string, string][]; ms?: number } = {}): LifecycleEvent[] {
  const e = (seq: number, offsetMs: number, fields: Pick<LifecycleEvent, 'type' | 'status'> & Partial<LifecycleEvent>) => lifecycleEvent(runId, seq, 0, offsetMs, fields);
  const parent = options.parent ? { parentRunId: options.parent[0], parentStepId: options.parent[1] } : {};
  const waits = (options.children ?? []).map(([child, step], i) =>
    e(3 + i, 5, { type: 'step.waiting', status: 'waiting', stepId: step, attempt: 1, data: { wait: 'child', childRunId: child, workflow: 'child-flow' } }),
  );
  return [
    e(1, 0, { type: 'run.queued', status: 'queued', data: { version: '3', inputs: {}, ...parent } }),
    e(2, 0, { type: 'run.started', status: 'running' }),
    ...waits,
    e(100, options.ms ?? 50, { type: 'run.completed', status: 'completed', durationMs: options.ms ?? 50 }),
  ];
}

/** Runs by id and namespace; runEvents is scoped like the SQL store's. */
function storeOf(runs: { events: LifecycleEvent[]; namespace: string }[]): JournalStore {
  const byRun = new Map<string, { entries: JournalEntry[]; namespace: string }>();
  runs.forEach(({ events, namespace }) => {
    const entries = events.map((event, i) => ({ ...toJournalEntry(event).entry, namespace, position: i }) as unknown as JournalEntry);
    byRun.set(events[0]?.runId ?? '', { entries, namespace });
  });
  const runEvents = async (runId: string, namespace?: string) => {
    const found = byRun.get(runId);
    return found && (namespace === undefined || found.namespace === namespace) ? found.entries : [];
  };
  return { runEvents, checkpoints: async () => [] } as unknown as JournalStore;
}

describe('the sub-workflow tree in reconstruct and history', () => {
  const tree = storeOf([
    { events: run('root', { children: [['c1', 'fan'], ['c2', 'fan'], ['gone', 'late']] }), namespace: 'acme' },
    { events: run('c1', { parent: ['root', 'fan'], children: [['g1', 'inner']], ms: 30 }), namespace: 'acme' },
    { events: run('g1', { parent: ['c1', 'inner'], ms: 10 }), namespace: 'acme' },
    { events: run('c2', { parent: ['root', 'fan'] }), namespace: 'other' },
  ]);

  it('reconstruct lists the children depth first with their parent, step, depth and status; a child the journal lacks is unknown', async () => {
    const story = await new JournalQueries(tree).reconstruct('root', null);
    expect(story.parent).toBeUndefined();
    expect(story.children?.map((c) => [c.runId, c.parentRunId, c.stepId, c.depth, c.workflow, c.status, c.durationMs])).toEqual([
      ['c1', 'root', 'fan', 1, 'data-pipeline', 'completed', 30],
      ['g1', 'c1', 'inner', 2, 'data-pipeline', 'completed', 10],
      ['c2', 'root', 'fan', 1, 'data-pipeline', 'completed', 50],
      ['gone', 'root', 'late', 1, null, 'unknown', null],
    ]);
  });

  it('a child names its parent; history carries both; a child of another namespace is not read', async () => {
    const child = await new JournalQueries(tree).history('c1', 'acme');
    expect(child.parent).toEqual({ runId: 'root', stepId: 'fan' });
    expect(child.children?.map((c) => c.runId)).toEqual(['g1']);
    const scoped = await new JournalQueries(tree).history('root', 'acme');
    expect(scoped.children?.find((c) => c.runId === 'c2')).toMatchObject({ workflow: null, status: 'unknown' });
    const leaf = await new JournalQueries(tree).reconstruct('g1', 'acme');
    expect(leaf.children).toBeUndefined();
  });

  it('cuts a tree past MAX_TREE_RUNS with a note, and reads each child once', async () => {
    const many = Array.from({ length: MAX_TREE_RUNS + 5 }, (_, i): [string, string] => [`k${i}`, 'fan']);
    const store = storeOf([{ events: run('big', { children: [...many, ['k0', 'again']] }), namespace: 'a' }]);
    const story = await new JournalQueries(store).reconstruct('big', null);
    expect(story.children).toHaveLength(MAX_TREE_RUNS);
    expect(story.notes).toEqual([expect.stringContaining(`cut at ${MAX_TREE_RUNS} runs`)]);
    expect(childLinks(story.events).filter((l) => l.runId === 'k0')).toEqual([{ runId: 'k0', stepId: 'fan' }]);
  });
});
