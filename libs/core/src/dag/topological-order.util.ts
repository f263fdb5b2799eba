import { DagError, DagErrorCode } from './dag.errors';
import { cyclesIn, formatCycle } from './find-cycle.util';
import { buildGraph, type DagNode, type Graph } from './graph.util';

/**
 * Step ids in an order where every step comes after all it needs. Among the steps
 * ready at any moment the earliest declared goes first, so a spec declared in a valid
 * order keeps that order. Throws DagError on duplicate ids, unknown needs or a cycle.
 */
export function topologicalOrder(steps: readonly DagNode[]): string[] {
  const graph = buildGraph(steps, true);
  const order = topologicalIndices(graph);
  if (order.length < graph.ids.length) {
    const cycle = cyclesIn(graph, true)[0] ?? [];
    throw new DagError(DagErrorCode.Cycle, `dependency cycle: ${formatCycle(cycle)}`, cycle);
  }
  return order.map((i) => graph.ids[i]);
}

/**
 * Kahn's algorithm with a min-heap on declaration index: O(V + E) when the declaration
 * order is already topological (checked first, the usual case), O(E + V log V) otherwise.
 * Steps on or behind a cycle are left out, so a short result means the graph is cyclic.
 */
export function topologicalIndices(graph: Graph): number[] {
  const n = graph.ids.length;
  if (declaredInOrder(graph)) return Array.from({ length: n }, (_, i) => i);
  const indegree = new Int32Array(n);
  for (let i = 0; i < n; i++) indegree[i] = graph.needs[i].length;
  const heap = new MinHeap(n);
  for (let i = 0; i < n; i++) if (indegree[i] === 0) heap.push(i);
  const order: number[] = [];
  while (heap.size > 0) {
    const node = heap.pop();
    order.push(node);
    for (const next of graph.dependents[node]) {
      indegree[next]--;
      if (indegree[next] === 0) heap.push(next);
    }
  }
  return order;
}

function declaredInOrder(graph: Graph): boolean {
  for (let i = 0; i < graph.needs.length; i++) for (const j of graph.needs[i]) if (j >= i) return false;
  return true;
}

/** Binary min-heap of step indices; each index enters at most once, so n slots suffice. */
class MinHeap {
  private readonly items: Int32Array;
  size = 0;
  constructor(capacity: number) {
    this.items = new Int32Array(Math.max(1, capacity));
  }

  push(value: number): void {
    const items = this.items;
    let at = this.size++;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (items[parent] <= value) break;
      items[at] = items[parent];
      at = parent;
    }
    items[at] = value;
  }

  pop(): number {
    const items = this.items;
    const top = items[0];
    const last = items[--this.size];
    let at = 0;
    for (;;) {
      let child = 2 * at + 1;
      if (child >= this.size) break;
      if (child + 1 < this.size && items[child + 1] < items[child]) child++;
      if (items[child] >= last) break;
      items[at] = items[child];
      at = child;
    }
    items[at] = last;
    return top;
  }
}
