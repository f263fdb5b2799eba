import type { JournalEntry, RunParentLink, RunTreeNode } from './journal.types';
import { reconstructRun } from './run-fold.util';

/**
 * The sub-workflow tree of a run (docs/flow-control.md, sub-workflows): a parent's step that
 * starts a child journals `step.waiting` with `data: { wait: 'child', childRunId }`; the child's
 * `run.queued` carries `parentRunId` / `parentStepId`. Pure helpers over a run's entries.
 */

/** Runs a tree holds at most (below the root): a bigger tree is cut, with a note. */
export const MAX_TREE_RUNS = 200;
/** Levels below the root at most (the engine bounds sub-workflow depth lower). */
export const MAX_TREE_DEPTH = 10;

/** The children a run started, in the order its journal says, once each. */
export function childLinks(events: readonly JournalEntry[]): { runId: string; stepId: string }[] {
  const out: { runId: string; stepId: string }[] = [];
  const seen = new Set<string>();
  for (const entry of events) {
    const child = entry.type === 'step.waiting' && entry.data?.['wait'] === 'child' ? entry.data['childRunId'] : undefined;
    if (typeof child !== 'string' || entry.stepId === null || seen.has(child)) continue;
    seen.add(child);
    out.push({ runId: child, stepId: entry.stepId });
  }
  return out;
}

/** The run that started this one, from its run.queued (absent for a top-level run). */
export function parentLink(events: readonly JournalEntry[]): RunParentLink | undefined {
  const queued = events.find((e) => e.type === 'run.queued' && e.stepId === null);
  const runId = queued?.data?.['parentRunId'];
  const stepId = queued?.data?.['parentStepId'];
  return typeof runId === 'string' && typeof stepId === 'string' ? { runId, stepId } : undefined;
}

/**
 * The tree below a run, flat in depth-first order (each node names its parent and depth), read
 * with `read` (one run's entries, scoped to the caller's namespace). A child the journal has no
 * entry for (pruned, not journaled yet) is a node with status `unknown`.
 */
export async function childTree(
  rootEvents: readonly JournalEntry[],
  read: (runId: string) => Promise<JournalEntry[]>,
): Promise<{ children: RunTreeNode[]; notes: string[] }> {
  const children: RunTreeNode[] = [];
  const notes: string[] = [];
  const root = rootEvents[0]?.runId;
  const visited = new Set<string>(root === undefined ? [] : [root]);
  const visit = async (parentRunId: string, events: readonly JournalEntry[], depth: number): Promise<void> => {
    for (const link of childLinks(events)) {
      if (visited.has(link.runId)) continue;
      if (children.length >= MAX_TREE_RUNS) {
        if (notes.length === 0) notes.push(`the run tree is cut at ${MAX_TREE_RUNS} runs: ask for a child's own history for the rest`);
        return;
      }
      visited.add(link.runId);
      const entries = await read(link.runId);
      const summary = reconstructRun(entries, [])?.run;
      children.push({
        runId: link.runId,
        parentRunId,
        stepId: link.stepId,
        depth,
        workflow: summary?.workflow ?? null,
        status: summary?.status ?? 'unknown',
        startedAt: summary?.startedAt ?? null,
        finishedAt: summary?.finishedAt ?? null,
        durationMs: summary?.durationMs ?? null,
      });
      if (depth < MAX_TREE_DEPTH) await visit(link.runId, entries, depth + 1);
    }
  };
  if (root !== undefined) await visit(root, rootEvents, 1);
  return { children, notes };
}
