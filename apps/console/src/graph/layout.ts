import type { ELK as ElkInstance } from 'elkjs/lib/elk-api';
import { GAP_X, GAP_Y, layered, NODE_H, NODE_W } from './layered.util';
import type { GraphModel } from './model';

export { NODE_H, NODE_W };

/** Above this many nodes the layered layout (layered.util.ts) is used instead of ELK (ELK's crossing minimisation grows too slow). */
export const ELK_MAX_NODES = 250;

export interface Positions {
  positions: Map<string, { x: number; y: number }>;
  engine: 'elk' | 'layered';
  ms: number;
}

let elk: Promise<ElkInstance> | null = null;
/** ELK is loaded on first use, into its own chunk, and runs in a Web Worker so layout never blocks the page. */
function loadElk(): Promise<ElkInstance> {
  elk ??= Promise.all([import('elkjs/lib/elk-api.js'), import('elkjs/lib/elk-worker.min.js?url')]).then(
    ([{ default: ELK }, { default: workerUrl }]) => new ELK({ workerFactory: () => new Worker(workerUrl) }),
  );
  return elk;
}

export async function layout(model: GraphModel): Promise<Positions> {
  const t0 = performance.now();
  if (model.nodes.length <= ELK_MAX_NODES) {
    try {
      const engine = await loadElk();
      const result = await engine.layout({
        id: 'root',
        layoutOptions: {
          'elk.algorithm': 'layered',
          'elk.direction': 'RIGHT',
          'elk.layered.spacing.nodeNodeBetweenLayers': String(GAP_X),
          'elk.spacing.nodeNode': String(GAP_Y),
          'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF',
        },
        children: model.nodes.map((n) => ({ id: n.id, width: NODE_W, height: NODE_H })),
        edges: model.edges.map((e) => ({ id: e.id, sources: [e.source], targets: [e.target] })),
      });
      const positions = new Map<string, { x: number; y: number }>();
      for (const c of result.children ?? []) positions.set(c.id, { x: c.x ?? 0, y: c.y ?? 0 });
      return { positions, engine: 'elk', ms: performance.now() - t0 };
    } catch {
      // A worker that cannot start (a strict CSP, an old browser): the layered layout still works.
    }
  }
  return { positions: layered(model), engine: 'layered', ms: performance.now() - t0 };
}

