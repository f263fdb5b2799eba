import { buildGraph, type DagNode, type Graph } from './graph.util';

/**
 * One dependency cycle, in execution order: each step needs the one before it and the
 * first needs the last. Undefined when the steps form a DAG. Needs on unknown steps are ignored.
 */
export function findCycle(steps: readonly DagNode[]): string[] | undefined {
  return findCycles(steps)[0];
}

/**
 * One cycle per strongly connected component (so every cyclic knot is reported once),
 * each as short as possible and starting at its earliest declared step.
 */
export function findCycles(steps: readonly DagNode[], options: { selfLoops?: boolean } = {}): string[][] {
  return cyclesIn(buildGraph(steps, false), options.selfLoops ?? true);
}

/** `a -> b -> c -> a`, the way diagnostics print a cycle. */
export function formatCycle(cycle: readonly string[]): string {
  return cycle.length === 0 ? '' : [...cycle, cycle[0]].join(' -> ');
}

export function cyclesIn(graph: Graph, selfLoops: boolean): string[][] {
  const cycles: string[][] = [];
  for (const component of stronglyConnected(graph)) {
    const start = component[0];
    if (component.length === 1) {
      if (selfLoops && graph.needs[start].includes(start)) cycles.push([graph.ids[start]]);
      continue;
    }
    cycles.push(shortestCycleThrough(graph, start, component).map((i) => graph.ids[i]));
  }
  return cycles.sort((a, b) => (graph.index.get(a[0]) ?? 0) - (graph.index.get(b[0]) ?? 0));
}

/** Tarjan's algorithm, iterative (deep graphs would overflow the call stack). Members sorted. */
function stronglyConnected(graph: Graph): number[][] {
  const n = graph.ids.length;
  const order = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const stack: number[] = [];
  const components: number[][] = [];
  const frames: number[] = []; // pairs: node, next edge position
  let counter = 0;
  for (let root = 0; root < n; root++) {
    if (order[root] !== -1) continue;
    frames.push(root, 0);
    order[root] = low[root] = counter++;
    stack.push(root);
    onStack[root] = 1;
    while (frames.length > 0) {
      const top = frames.length - 2;
      const node = frames[top];
      const edges = graph.needs[node];
      const pos = frames[top + 1];
      if (pos < edges.length) {
        frames[top + 1] = pos + 1;
        const next = edges[pos];
        if (order[next] === -1) {
          order[next] = low[next] = counter++;
          stack.push(next);
          onStack[next] = 1;
          frames.push(next, 0);
        } else if (onStack[next] === 1 && order[next] < low[node]) {
          low[node] = order[next];
        }
        continue;
      }
      frames.length = top;
      if (top > 0) {
        const parent = frames[top - 2];
        if (low[node] < low[parent]) low[parent] = low[node];
      }
      if (low[node] === order[node]) {
        const component: number[] = [];
        let member: number;
        do {
          member = stack.pop() as number;
          onStack[member] = 0;
          component.push(member);
        } while (member !== node);
        components.push(component.sort((a, b) => a - b));
      }
    }
  }
  return components;
}

/** BFS along needs inside one component, back to `start`; returned in execution order. */
function shortestCycleThrough(graph: Graph, start: number, component: number[]): number[] {
  const inside = new Set(component);
  const parent = new Map<number, number>([[start, -1]]);
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const node = queue[head];
    for (const next of graph.needs[node]) {
      if (next === start) {
        // start needs ... needs node needs start: execution runs the other way round.
        const path: number[] = [];
        for (let at = node; at !== start; at = parent.get(at) ?? start) path.push(at);
        return [start, ...path];
      }
      if (inside.has(next) && !parent.has(next)) {
        parent.set(next, node);
        queue.push(next);
      }
    }
  }
  return [start]; // unreachable for a component of two or more steps
}
