import { DagError, DagErrorCode } from './dag.errors';

/** The only shape the DAG functions need from a step. */
export interface DagNode {
  id: string;
  needs?: readonly string[];
}

/**
 * Steps as integer-indexed adjacency lists, the form every algorithm here works on.
 * Indices follow declaration order (first occurrence of an id).
 */
export interface Graph {
  ids: string[];
  index: Map<string, number>;
  /** needs[i]: indices of the steps step i needs (deduplicated, known ids only). */
  needs: number[][];
  /** dependents[i]: indices of the steps that need step i, in declaration order. */
  dependents: number[][];
}

/**
 * Builds the graph. Strict mode throws on duplicate ids and unknown needs; lenient mode
 * (used while validating, where those are reported separately) keeps the first
 * declaration of an id and drops edges to unknown steps.
 */
export function buildGraph(steps: readonly DagNode[], strict: boolean): Graph {
  const ids: string[] = [];
  const index = new Map<string, number>();
  const owners: number[] = [];
  for (let s = 0; s < steps.length; s++) {
    const id = steps[s].id;
    if (index.has(id)) {
      if (strict) throw new DagError(DagErrorCode.DuplicateStep, `duplicate step id "${id}"`);
      continue;
    }
    index.set(id, ids.length);
    ids.push(id);
    owners.push(s);
  }
  const needs: number[][] = new Array<number[]>(ids.length);
  const dependents: number[][] = [];
  for (let i = 0; i < ids.length; i++) dependents.push([]);
  for (let i = 0; i < ids.length; i++) {
    const declared = steps[owners[i]].needs ?? [];
    const list: number[] = [];
    for (const need of declared) {
      const j = index.get(need);
      if (j === undefined) {
        if (strict) throw new DagError(DagErrorCode.UnknownStep, `step "${ids[i]}" needs unknown step "${need}"`);
        continue;
      }
      // Duplicates would double-count in-degrees.
      if (!list.includes(j)) list.push(j);
    }
    needs[i] = list;
  }
  // Filling dependents by ascending dependent index keeps them in declaration order.
  for (let i = 0; i < ids.length; i++) for (const j of needs[i]) dependents[j].push(i);
  return { ids, index, needs, dependents };
}

/** For each step id, the ids of the steps that directly need it, in declaration order. */
export function dependentsIndex(steps: readonly DagNode[]): Map<string, string[]> {
  const graph = buildGraph(steps, false);
  const out = new Map<string, string[]>();
  graph.ids.forEach((id, i) => out.set(id, graph.dependents[i].map((j) => graph.ids[j])));
  return out;
}

/** Every step `id` transitively needs, in declaration order. Unknown ids have none. */
export function upstreamOf(steps: readonly DagNode[], id: string): string[] {
  const graph = buildGraph(steps, false);
  return collect(graph, id, graph.needs);
}

/** Every step that transitively needs `id`, in declaration order (e.g. to skip them when it fails). */
export function downstreamOf(steps: readonly DagNode[], id: string): string[] {
  const graph = buildGraph(steps, false);
  return collect(graph, id, graph.dependents);
}

function collect(graph: Graph, id: string, edges: number[][]): string[] {
  const start = graph.index.get(id);
  if (start === undefined) return [];
  const seen = new Uint8Array(graph.ids.length);
  const stack = [start];
  while (stack.length > 0) {
    const node = stack.pop() as number;
    for (const next of edges[node]) {
      if (seen[next] === 0) {
        seen[next] = 1;
        stack.push(next);
      }
    }
  }
  // A step in a cycle reaches itself, but it is not its own upstream.
  seen[start] = 0;
  const out: string[] = [];
  for (let i = 0; i < seen.length; i++) if (seen[i] === 1) out.push(graph.ids[i]);
  return out;
}
