import type { StepStatus } from '@weft/contracts';
import type { StepSpec as SpecStep } from '@weft/sdk';

/** Fan-outs at least this wide become one node with a counter. */
export const COLLAPSE_MIN = 8;

export interface GraphNode {
  id: string;
  /** Step ids this node stands for: one, or a collapsed fan-out's members. */
  members: string[];
  label: string;
  action: string;
}

export interface GraphModel {
  nodes: GraphNode[];
  edges: { id: string; source: string; target: string }[];
  /** step id -> node id */
  nodeOf: Map<string, string>;
}

const key = (ids: string[] | undefined): string => [...(ids ?? [])].sort().join('\u0000');

function commonPrefix(ids: string[]): string {
  let prefix = ids[0] ?? '';
  for (const id of ids) while (!id.startsWith(prefix)) prefix = prefix.slice(0, -1);
  return prefix.replace(/[_\-.]+$/, '');
}

/**
 * The run's DAG from its spec. Steps with the same needs, the same dependents and the
 * same action are siblings of one fan-out; COLLAPSE_MIN or more of them become one node,
 * so a 1,000-wide fan-out draws as one box instead of freezing the page.
 */
export function buildGraph(steps: SpecStep[]): GraphModel {
  const dependents = new Map<string, string[]>();
  for (const s of steps) for (const n of s.needs ?? []) dependents.set(n, [...(dependents.get(n) ?? []), s.id]);
  const groups = new Map<string, SpecStep[]>();
  for (const s of steps) {
    const g = `${s.action}\u0001${key(s.needs)}\u0001${key(dependents.get(s.id))}`;
    const list = groups.get(g);
    if (list) list.push(s);
    else groups.set(g, [s]);
  }
  const nodeOf = new Map<string, string>();
  const nodes: GraphNode[] = [];
  const placed = new Set<string>();
  for (const s of steps) {
    if (placed.has(s.id)) continue;
    const g = groups.get(`${s.action}\u0001${key(s.needs)}\u0001${key(dependents.get(s.id))}`) ?? [s];
    if (g.length >= COLLAPSE_MIN) {
      const id = `group:${s.id}`;
      const members = g.map((m) => m.id);
      for (const m of members) {
        nodeOf.set(m, id);
        placed.add(m);
      }
      nodes.push({ id, members, label: `${commonPrefix(members) || s.action}…`, action: s.action });
    } else {
      nodeOf.set(s.id, s.id);
      placed.add(s.id);
      nodes.push({ id: s.id, members: [s.id], label: s.name ?? s.id, action: s.action });
    }
  }
  const edges = new Map<string, { id: string; source: string; target: string }>();
  for (const s of steps)
    for (const n of s.needs ?? []) {
      const source = nodeOf.get(n);
      const target = nodeOf.get(s.id);
      if (!source || !target || source === target) continue;
      const id = `${source}->${target}`;
      if (!edges.has(id)) edges.set(id, { id, source, target });
    }
  return { nodes, edges: [...edges.values()], nodeOf };
}

export type StatusCounts = Partial<Record<StepStatus, number>>;

const URGENCY: readonly StepStatus[] = ['failed', 'running', 'retrying', 'waiting', 'queued', 'canceled', 'pending', 'completed', 'skipped'];

/** One status for a node: a collapsed fan-out shows its most urgent member's. */
export function nodeStatus(counts: StatusCounts): StepStatus {
  for (const s of URGENCY) if ((counts[s] ?? 0) > 0) return s;
  return 'pending';
}
