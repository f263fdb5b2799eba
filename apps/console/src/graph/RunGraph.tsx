import { Background, Controls, type Edge, Handle, MiniMap, type Node, type NodeProps, Position, ReactFlow } from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import { memo, useEffect, useMemo, useRef, useState } from 'react';
import type { StepSpec as SpecStep, Step as StepView } from '@weft/sdk';
import { buildGraph, type GraphModel, nodeStatus, type StatusCounts } from './model';
import { layout, NODE_H, NODE_W, type Positions } from './layout';

interface StepNodeData extends Record<string, unknown> {
  label: string;
  action: string;
  status: string;
  size: number;
  counts: StatusCounts;
  selected: boolean;
}
type StepNode = Node<StepNodeData, 'step' | 'compact'>;

const StepBox = memo(function StepBox({ data }: NodeProps<StepNode>): React.JSX.Element {
  const counts = Object.entries(data.counts)
    .filter(([, n]) => (n ?? 0) > 0)
    .map(([s, n]) => `${n} ${s}`)
    .join(' · ');
  return (
    <div
      className={`step-node s-${data.status}${data.selected ? ' selected' : ''}`}
      style={{ width: NODE_W, height: NODE_H }}
      data-testid="graph-node"
      data-status={data.status}
      title={data.size > 1 ? counts : undefined}
    >
      <Handle type="target" position={Position.Left} isConnectable={false} />
      <div className="step-node-title">
        {data.label}
        {data.size > 1 && (
          <span className="counter" data-testid="fanout-counter">
            ×{data.size}
          </span>
        )}
      </div>
      <div className="step-node-sub">{data.size > 1 ? counts : `${data.action} · ${data.status}`}</div>
      <Handle type="source" position={Position.Right} isConnectable={false} />
    </div>
  );
});
/** Big graphs: the same box without Handle components, a thousand fewer store subscriptions. */
const CompactStepBox = memo(function CompactStepBox({ data }: NodeProps<StepNode>): React.JSX.Element {
  return (
    <div className={`step-node s-${data.status}${data.selected ? ' selected' : ''}`} style={{ width: NODE_W, height: NODE_H }} data-testid="graph-node" data-status={data.status}>
      {/* Plain elements React Flow measures as handles (it looks for these classes), without a Handle component each. */}
      <div className="react-flow__handle react-flow__handle-left target" data-handlepos="left" />
      <div className="react-flow__handle react-flow__handle-right source" data-handlepos="right" />
      <div className="step-node-title">
        {data.label}
        {data.size > 1 && (
          <span className="counter" data-testid="fanout-counter">
            ×{data.size}
          </span>
        )}
      </div>
      <div className="step-node-sub">{data.size > 1 ? `${data.size} steps` : `${data.action} · ${data.status}`}</div>
    </div>
  );
});
const nodeTypes = { step: StepBox, compact: CompactStepBox };
/** Above this many nodes the graph opens at a readable zoom on the step that matters and draws only what is on screen. */
const BIG_GRAPH = 150;
const BIG_ZOOM = 0.7;

export interface GraphRendered {
  nodes: number;
  layoutMs: number;
  engine: Positions['engine'];
}

/**
 * The run's DAG, laid out once per spec (ELK in a worker for small graphs, a layered
 * layout for big ones) and recoloured in place as statuses change.
 */
export function RunGraph({
  specSteps,
  steps,
  selected,
  onSelect,
  onRendered,
}: {
  specSteps: SpecStep[];
  steps: StepView[];
  selected: string | null;
  onSelect: (nodeMembers: string[]) => void;
  onRendered?: (info: GraphRendered) => void;
}): React.JSX.Element {
  const model: GraphModel = useMemo(() => buildGraph(specSteps), [specSteps]);
  const [positions, setPositions] = useState<Positions | null>(null);
  useEffect(() => {
    let live = true;
    void layout(model).then((p) => live && setPositions(p));
    return () => {
      live = false;
    };
  }, [model]);

  const statusOf = useMemo(() => new Map(steps.map((s) => [s.id, s.status])), [steps]);
  const cache = useRef(new Map<string, StepNode>());
  const nodes: StepNode[] = useMemo(() => {
    if (!positions) return [];
    const selectedNode = selected ? model.nodeOf.get(selected) : undefined;
    return model.nodes.map((n) => {
      const counts: StatusCounts = {};
      for (const m of n.members) {
        const s = statusOf.get(m) ?? 'pending';
        counts[s] = (counts[s] ?? 0) + 1;
      }
      const status = n.members.length === 1 ? (statusOf.get(n.id) ?? 'pending') : nodeStatus(counts);
      const isSelected = selectedNode === n.id;
      const prev = cache.current.get(n.id);
      const sig = JSON.stringify(counts);
      // Reusing unchanged node objects lets React Flow skip them on every live update.
      if (prev && prev.data.status === status && prev.data.selected === isSelected && JSON.stringify(prev.data.counts) === sig) return prev;
      const node: StepNode = {
        id: n.id,
        type: model.nodes.length > BIG_GRAPH ? 'compact' : 'step',
        position: positions.positions.get(n.id) ?? { x: 0, y: 0 },
        // Known sizes: React Flow shows and fits the nodes without measuring 1,000 boxes first.
        width: NODE_W,
        height: NODE_H,
        handles: [
          { type: 'target', position: Position.Left, x: 0, y: NODE_H / 2, width: 1, height: 1 },
          { type: 'source', position: Position.Right, x: NODE_W, y: NODE_H / 2, width: 1, height: 1 },
        ],
        data: { label: n.label, action: n.action, status, size: n.members.length, counts, selected: isSelected },
        ariaLabel: `${n.label}: ${status}`,
      };
      cache.current.set(n.id, node);
      return node;
    });
  }, [positions, model, statusOf, selected]);
  const edges: Edge[] = useMemo(() => model.edges.map((e) => ({ ...e, type: model.nodes.length > 200 ? 'straight' : 'smoothstep' })), [model]);

  const reported = useRef(false);
  // The minimap draws every node: it comes after the first paint, so the graph shows first.
  const [decorated, setDecorated] = useState(false);
  useEffect(() => {
    if (positions && nodes.length > 0 && !reported.current) {
      reported.current = true;
      onRendered?.({ nodes: nodes.length, layoutMs: positions.ms, engine: positions.engine });
      requestAnimationFrame(() => setTimeout(() => setDecorated(true), 0));
    }
  }, [positions, nodes.length, onRendered]);

  const frame = useRef<HTMLDivElement>(null);
  const big = model.nodes.length > BIG_GRAPH;
  // A big graph opens on its first failed, else running, else first node: at fit-all zoom a
  // thousand boxes are unreadable and slow; the minimap shows the whole.
  const viewport = useMemo(() => {
    if (!big || !positions) return undefined;
    const order = ['failed', 'running', 'retrying', 'waiting'];
    const focusId =
      (selected ? model.nodeOf.get(selected) : undefined) ??
      order.map((st) => model.nodes.find((n) => n.members.some((m) => statusOf.get(m) === st))?.id).find((id) => id !== undefined) ??
      model.nodes[0]?.id;
    const at = (focusId && positions.positions.get(focusId)) || { x: 0, y: 0 };
    const height = frame.current?.clientHeight ?? 400;
    return { zoom: BIG_ZOOM, x: 40 - Math.max(0, at.x - 300) * BIG_ZOOM, y: height / 2 - (at.y + NODE_H / 2) * BIG_ZOOM };
    // Only when the layout changes: later status changes must not move the user's view.
  }, [positions, big]);

  if (!positions)
    return (
      <div className="graph muted" ref={frame}>
        Laying out {model.nodes.length} nodes…
      </div>
    );
  return (
    <div
      className="graph"
      ref={frame}
      data-testid="run-graph"
      data-nodes={nodes.length}
      data-layout={positions.engine}
      onKeyDown={(e) => {
        // A focused node (Tab moves through them) opens with Enter, as a click would.
        const id = e.target instanceof HTMLElement ? e.target.closest('.react-flow__node')?.getAttribute('data-id') : null;
        if (e.key === 'Enter' && id) onSelect(model.nodes.find((n) => n.id === id)?.members ?? [id]);
      }}
    >
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        {...(viewport ? { defaultViewport: viewport, onlyRenderVisibleElements: true } : { fitView: true, fitViewOptions: { maxZoom: 1.2, minZoom: 0.05 } })}
        minZoom={0.02}
        nodesDraggable={false}
        nodesConnectable={false}
        onNodeClick={(_, node) => onSelect(model.nodes.find((n) => n.id === node.id)?.members ?? [node.id])}
      >
        <Background gap={24} />
        <Controls showInteractive={false} />
        {decorated && nodes.length > 30 && <MiniMap pannable zoomable />}
      </ReactFlow>
    </div>
  );
}
