export { DagError, DagErrorCode } from './dag.errors';
export { type DagNode, dependentsIndex, downstreamOf, upstreamOf } from './graph.util';
export { topologicalOrder } from './topological-order.util';
export { findCycle, findCycles, formatCycle } from './find-cycle.util';
export { type Reachability, reachability } from './reachability.util';
