import { Background, Controls, type Edge, Handle, MiniMap, type Node, type NodeProps, Position, ReactFlow } from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import { memo, useEffect, useMemo, useRef, useState } from 'react';
import type { SpecStep, StepView } from '../api/types';
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
type StepNode = Node<StepNodeData, 'step'>;

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
const nodeTypes = { step: StepBox };

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
        type: 'step',
        position: positions.positions.get(n.id) ?? { x: 0, y: 0 },
        data: { label: n.label, action: n.action, status, size: n.members.length, counts, selected: isSelected },
        ariaLabel: `${n.label}: ${status}`,
      };
      cache.current.set(n.id, node);
      return node;
    });
  }, [positions, model, statusOf, selected]);
  const edges: Edge[] = useMemo(() => model.edges.map((e) => ({ ...e, type: model.nodes.length > 200 ? 'straight' : 'smoothstep' })), [model]);

  const reported = useRef(false);
  useEffect(() => {
    if (positions && nodes.length > 0 && !reported.current) {
      reported.current = true;
      onRendered?.({ nodes: nodes.length, layoutMs: positions.ms, engine: positions.engine });
    }
  }, [positions, nodes.length, onRendered]);

  if (!positions) return <div className="graph muted">Laying out {model.nodes.length} nodes…</div>;
  return (
    <div className="graph" data-testid="run-graph" data-nodes={nodes.length} data-layout={positions.engine}>
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        fitView
        fitViewOptions={{ maxZoom: 1.2, minZoom: 0.05 }}
        minZoom={0.02}
        nodesDraggable={false}
        nodesConnectable={false}
        onlyRenderVisibleElements={nodes.length > 150}
        onNodeClick={(_, node) => onSelect(model.nodes.find((n) => n.id === node.id)?.members ?? [node.id])}
      >
        <Background gap={24} />
        <Controls showInteractive={false} />
        {nodes.length > 30 && <MiniMap pannable zoomable />}
      </ReactFlow>
    </div>
  );
}
