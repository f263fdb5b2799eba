import type { GraphModel } from './model';

export const NODE_W = 190;
export const NODE_H = 52;
export const GAP_X = 70;
export const GAP_Y = 22;

/**
 * A Sugiyama-style layout in linear-ish time: layers by longest path from the roots,
 * order inside a layer by a few barycentre sweeps, then a grid. Used for big graphs.
 */
export function layered(model: GraphModel): Map<string, { x: number; y: number }> {
  const preds = new Map<string, string[]>();
  const succs = new Map<string, string[]>();
  for (const n of model.nodes) {
    preds.set(n.id, []);
    succs.set(n.id, []);
  }
  for (const e of model.edges) {
    preds.get(e.target)?.push(e.source);
    succs.get(e.source)?.push(e.target);
  }
  // Kahn's order gives each node its layer after all its predecessors'.
  const indeg = new Map<string, number>();
  for (const n of model.nodes) indeg.set(n.id, preds.get(n.id)?.length ?? 0);
  const layer = new Map<string, number>();
  const queue = model.nodes.filter((n) => (indeg.get(n.id) ?? 0) === 0).map((n) => n.id);
  for (const id of queue) layer.set(id, 0);
  for (let i = 0; i < queue.length; i++) {
    const id = queue[i] ?? '';
    for (const s of succs.get(id) ?? []) {
      layer.set(s, Math.max(layer.get(s) ?? 0, (layer.get(id) ?? 0) + 1));
      const d = (indeg.get(s) ?? 0) - 1;
      indeg.set(s, d);
      if (d === 0) queue.push(s);
    }
  }
  const layers: string[][] = [];
  for (const n of model.nodes) {
    const l = layer.get(n.id) ?? 0;
    (layers[l] ??= []).push(n.id);
  }
  const order = new Map<string, number>();
  const reindex = (ids: string[]): void => ids.forEach((id, i) => order.set(id, i));
  layers.forEach(reindex);
  const bary = (id: string, from: Map<string, string[]>): number => {
    const ns = from.get(id) ?? [];
    if (ns.length === 0) return order.get(id) ?? 0;
    return ns.reduce((a, n) => a + (order.get(n) ?? 0), 0) / ns.length;
  };
  for (let sweep = 0; sweep < 4; sweep++) {
    const down = sweep % 2 === 0;
    const seq = down ? layers.slice(1) : layers.slice(0, -1).reverse();
    for (const ids of seq) {
      ids.sort((a, b) => bary(a, down ? preds : succs) - bary(b, down ? preds : succs));
      reindex(ids);
    }
  }
  const tallest = Math.max(1, ...layers.map((l) => l.length));
  const positions = new Map<string, { x: number; y: number }>();
  layers.forEach((ids, l) => {
    const offset = ((tallest - ids.length) * (NODE_H + GAP_Y)) / 2;
    ids.forEach((id, i) => positions.set(id, { x: l * (NODE_W + GAP_X), y: offset + i * (NODE_H + GAP_Y) }));
  });
  return positions;
}
