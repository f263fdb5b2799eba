import { buildGraph, type DagNode, type Graph } from './graph.util';
import { topologicalIndices } from './topological-order.util';

export interface Reachability {
  /** True when `step` transitively needs `ancestor` (a step is not its own upstream). */
  isUpstream(ancestor: string, step: string): boolean;
}

/** Upper bound on memory spent on descendant bitsets. */
const BITSET_BUDGET_BYTES = 64 * 1024 * 1024;

/**
 * Answers "is A upstream of B" without materialising ancestor sets, so that checking the
 * references of a 100k-step workflow stays near-linear:
 * - rank test: in a DAG, A can only be upstream of B if A comes earlier in topological order;
 * - direct need: a scan of B's needs;
 * - otherwise a backwards search from B that never descends below A's rank (typical
 *   references point a few levels up, so the search stays small); consecutive questions
 *   about the same B reuse it;
 * - once the searches for one target have cost as much as walking the whole graph
 *   (e.g. a config step everyone reads), that target gets a descendant bitset and its
 *   further questions are O(1). Building it costs at most what was already spent, so
 *   the total stays within twice the search work, and no target costs more than O(V + E).
 * With cycles (already an error elsewhere) the rank test is off and the search is exhaustive.
 */
export function reachability(steps: readonly DagNode[]): Reachability {
  return new ReachabilityIndex(buildGraph(steps, false));
}

class ReachabilityIndex implements Reachability {
  private readonly rank: Int32Array;
  private readonly acyclic: boolean;
  private readonly visited: Int32Array;
  private epoch = 0;
  private searchedFrom = -1;
  private searchedDownTo = Number.MAX_SAFE_INTEGER;
  private readonly size: number;
  /** Search work per target so far, in nodes + edges visited. */
  private readonly spent = new Map<number, number>();
  /** Work of the last search (0 when it reused the previous one). */
  private lastCost = 0;
  private readonly descendants = new Map<number, Uint32Array>();
  private bitsetBytes = 0;
  private readonly stack: number[] = [];

  constructor(private readonly graph: Graph) {
    const n = graph.ids.length;
    const order = topologicalIndices(graph);
    this.acyclic = order.length === n;
    this.rank = new Int32Array(n);
    order.forEach((node, position) => (this.rank[node] = position));
    this.visited = new Int32Array(n);
    this.size = n + graph.needs.reduce((sum, list) => sum + list.length, 0);
  }

  isUpstream(ancestor: string, step: string): boolean {
    const a = this.graph.index.get(ancestor);
    const b = this.graph.index.get(step);
    if (a === undefined || b === undefined || a === b) return false;
    if (this.acyclic && this.rank[a] >= this.rank[b]) return false;
    if (this.graph.needs[b].includes(a)) return true;
    const known = this.descendants.get(a);
    if (known) return hasBit(known, b);
    const found = this.searchUp(b, a);
    const spent = (this.spent.get(a) ?? 0) + this.lastCost;
    this.spent.set(a, spent);
    if (spent > this.size && this.bitsetBytes < BITSET_BUDGET_BYTES) this.descendantsOf(a);
    return found;
  }

  private searchUp(from: number, target: number): boolean {
    const floor = this.acyclic ? this.rank[target] : 0;
    this.lastCost = 0;
    if (this.searchedFrom !== from || floor < this.searchedDownTo) {
      this.epoch++;
      this.searchedFrom = from;
      this.searchedDownTo = floor;
      const { visited, rank, stack } = this;
      const needs = this.graph.needs;
      stack.length = 0;
      stack.push(from);
      while (stack.length > 0) {
        const node = stack.pop() as number;
        for (const next of needs[node]) {
          if (visited[next] === this.epoch || rank[next] < floor) continue;
          visited[next] = this.epoch;
          this.lastCost += 1 + needs[next].length;
          stack.push(next);
        }
      }
    }
    return this.visited[target] === this.epoch;
  }

  private descendantsOf(node: number): Uint32Array {
    const bits = new Uint32Array((this.graph.ids.length + 31) >>> 5);
    const stack = [node];
    while (stack.length > 0) {
      const at = stack.pop() as number;
      for (const next of this.graph.dependents[at]) {
        if (hasBit(bits, next)) continue;
        bits[next >>> 5] |= 1 << (next & 31);
        stack.push(next);
      }
    }
    this.descendants.set(node, bits);
    this.bitsetBytes += bits.byteLength;
    return bits;
  }
}

function hasBit(bits: Uint32Array, i: number): boolean {
  return (bits[i >>> 5] & (1 << (i & 31))) !== 0;
}
