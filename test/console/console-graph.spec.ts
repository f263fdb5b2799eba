import { layered, NODE_H, NODE_W } from '../../apps/console/src/graph/layered.util';
import { buildGraph, COLLAPSE_MIN, nodeStatus } from '../../apps/console/src/graph/model';
import { sideBySide } from '../../apps/console/src/pages/diff.util';

// The console's pure parts: the run graph it draws (collapsed fan-outs), the layout of big
// graphs, and the version diff. The browser tests cover the rest.

const fanOut = (width: number) => [
  { id: 'split', action: 'noop' },
  ...Array.from({ length: width }, (_, i) => ({ id: `shard_${i}`, needs: ['split'], action: 'transform' })),
  { id: 'join', needs: Array.from({ length: width }, (_, i) => `shard_${i}`), action: 'noop' },
];

describe('buildGraph', () => {
  it('draws a fan-out of COLLAPSE_MIN or more siblings as one node with its members, and keeps edges between nodes', () => {
    const model = buildGraph(fanOut(500));
    expect(model.nodes.map((n) => [n.id, n.members.length, n.label])).toEqual([
      ['split', 1, 'split'],
      ['group:shard_0', 500, 'shard…'],
      ['join', 1, 'join'],
    ]);
    expect(model.edges.map((e) => e.id)).toEqual(['split->group:shard_0', 'group:shard_0->join']);
    expect(model.nodeOf.get('shard_499')).toBe('group:shard_0');
  });

  it('keeps a narrower fan-out, and siblings with different actions, needs or dependents, as separate nodes', () => {
    expect(buildGraph(fanOut(COLLAPSE_MIN - 1)).nodes).toHaveLength(COLLAPSE_MIN + 1);
    const mixed = fanOut(10).map((s, i) => (i === 3 ? { ...s, action: 'log' } : s));
    expect(buildGraph(mixed).nodes.map((n) => n.members.length).sort((a, b) => a - b)).toEqual([1, 1, 1, 9]);
    const mesh = Array.from({ length: 20 }, (_, i) => ({ id: `m${i}`, needs: i === 0 ? [] : [`m${i - 1}`], action: 'noop' }));
    expect(buildGraph(mesh).nodes).toHaveLength(20);
  });

  it('gives a collapsed node the status that needs attention first', () => {
    expect(nodeStatus({ completed: 400, failed: 1, running: 3 })).toBe('failed');
    expect(nodeStatus({ completed: 10, running: 1 })).toBe('running');
    expect(nodeStatus({ completed: 10 })).toBe('completed');
    expect(nodeStatus({})).toBe('pending');
  });
});

describe('layered', () => {
  it('places every node right of everything it needs, without overlaps, for a 1,000-step mesh', () => {
    const steps = [];
    for (let l = 0; l < 40; l++) for (let c = 0; c < 25; c++) steps.push({ id: `s${l}_${c}`, action: 'noop', needs: l === 0 ? [] : [`s${l - 1}_${c}`, `s${l - 1}_${(c + 7) % 25}`] });
    const model = buildGraph(steps);
    const at = layered(model);
    expect(at.size).toBe(1_000);
    for (const e of model.edges) expect(at.get(e.source)!.x).toBeLessThan(at.get(e.target)!.x);
    const cells = new Set([...at.values()].map((p) => `${Math.round(p.x / NODE_W)}:${Math.round(p.y / NODE_H)}`));
    expect(cells.size).toBe(1_000);
  });
});

describe('sideBySide', () => {
  it('pairs removed and added lines as changes, keeps the rest aligned, and numbers both sides', () => {
    const rows = sideBySide(['a', 'b', 'c', 'd'], ['a', 'B', 'c', 'd', 'e']);
    expect(rows.map((r) => [r.kind, r.left, r.right])).toEqual([
      ['same', 'a', 'a'],
      ['changed', 'b', 'B'],
      ['same', 'c', 'c'],
      ['same', 'd', 'd'],
      ['added', null, 'e'],
    ]);
    expect(rows[4]).toMatchObject({ leftNo: null, rightNo: 5 });
    expect(sideBySide(['x'], []).map((r) => r.kind)).toEqual(['removed']);
  });
});
