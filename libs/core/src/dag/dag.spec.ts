import fc from 'fast-check';
import {
  DagError,
  type DagNode,
  dependentsIndex,
  downstreamOf,
  findCycle,
  findCycles,
  formatCycle,
  reachability,
  topologicalOrder,
  upstreamOf,
} from './index';

/** A random DAG: edges only go from earlier to later in a hidden order, then declarations are shuffled. */
const randomDag = fc
  .integer({ min: 0, max: 30 })
  .chain((n) =>
    fc.tuple(
      fc.array(fc.array(fc.integer({ min: 0, max: Math.max(0, n - 1) }), { maxLength: 4 }), { minLength: n, maxLength: n }),
      fc.shuffledSubarray(Array.from({ length: n }, (_, i) => i), { minLength: n, maxLength: n }),
    ),
  )
  .map(([needLists, declared]) =>
    declared.map((i) => ({ id: `s${i}`, needs: needLists[i].filter((j) => j < i).map((j) => `s${j}`) })),
  );

/** Any directed graph, self-loops included: some are DAGs, many are not. */
const randomGraph = fc
  .integer({ min: 1, max: 12 })
  .chain((n) =>
    fc.array(fc.array(fc.integer({ min: 0, max: n - 1 }), { maxLength: 3 }), { minLength: n, maxLength: n }),
  )
  .map((needLists) => needLists.map((needs, i) => ({ id: `s${i}`, needs: needs.map((j) => `s${j}`) })));

function needsOf(steps: DagNode[]): Map<string, readonly string[]> {
  return new Map(steps.map((s) => [s.id, s.needs ?? []]));
}

/** Oracle: a graph is acyclic iff repeatedly removing steps whose needs are all removed empties it. */
function isAcyclic(steps: DagNode[]): boolean {
  const done = new Set<string>();
  let progress = true;
  while (progress) {
    progress = false;
    for (const s of steps) {
      if (!done.has(s.id) && (s.needs ?? []).every((n) => done.has(n))) {
        done.add(s.id);
        progress = true;
      }
    }
  }
  return done.size === steps.length;
}

/** Oracle: ancestors by plain BFS. */
function ancestors(steps: DagNode[], id: string): Set<string> {
  const needs = needsOf(steps);
  const seen = new Set<string>();
  const queue = [...(needs.get(id) ?? [])];
  while (queue.length > 0) {
    const at = queue.shift() as string;
    if (seen.has(at)) continue;
    seen.add(at);
    queue.push(...(needs.get(at) ?? []));
  }
  seen.delete(id);
  return seen;
}

function expectValidCycle(steps: DagNode[], cycle: string[]): void {
  const needs = needsOf(steps);
  expect(cycle.length).toBeGreaterThan(0);
  expect(new Set(cycle).size).toBe(cycle.length);
  cycle.forEach((id, i) => {
    const before = cycle[(i - 1 + cycle.length) % cycle.length];
    expect(needs.get(id)).toContain(before);
  });
}

describe('topologicalOrder', () => {
  it('puts every step after all it needs (random DAGs)', () => {
    fc.assert(
      fc.property(randomDag, (steps) => {
        const order = topologicalOrder(steps);
        expect([...order].sort()).toEqual(steps.map((s) => s.id).sort());
        const position = new Map(order.map((id, i) => [id, i]));
        for (const s of steps) for (const n of s.needs) expect(position.get(n)).toBeLessThan(position.get(s.id) ?? -1);
      }),
    );
  });

  it('picks the earliest declared ready step at every point (stable)', () => {
    fc.assert(
      fc.property(randomDag, (steps) => {
        const done = new Set<string>();
        const expected: string[] = [];
        while (expected.length < steps.length) {
          const next = steps.find((s) => !done.has(s.id) && s.needs.every((n) => done.has(n)));
          if (!next) throw new Error('oracle found no ready step in a DAG');
          done.add(next.id);
          expected.push(next.id);
        }
        expect(topologicalOrder(steps)).toEqual(expected);
      }),
    );
  });

  it('keeps declaration order when it is already valid', () => {
    expect(topologicalOrder([{ id: 'a' }, { id: 'b', needs: ['a'] }, { id: 'c' }])).toEqual(['a', 'b', 'c']);
    expect(topologicalOrder([{ id: 'b', needs: ['a'] }, { id: 'c' }, { id: 'a' }])).toEqual(['c', 'a', 'b']);
  });

  it('throws DagError DAG_CYCLE exactly for cyclic graphs', () => {
    fc.assert(
      fc.property(randomGraph, (steps) => {
        let error: unknown;
        try {
          topologicalOrder(steps);
        } catch (e) {
          error = e;
        }
        if (isAcyclic(steps)) expect(error).toBeUndefined();
        else {
          expect(error).toBeInstanceOf(DagError);
          expect((error as DagError).code).toBe('DAG_CYCLE');
          expectValidCycle(steps, (error as DagError).cycle ?? []);
        }
      }),
    );
  });

  it('rejects unknown needs and duplicate ids', () => {
    expect(() => topologicalOrder([{ id: 'a', needs: ['b'] }])).toThrow(expect.objectContaining({ code: 'DAG_UNKNOWN_STEP' }));
    expect(() => topologicalOrder([{ id: 'a' }, { id: 'a' }])).toThrow(expect.objectContaining({ code: 'DAG_DUPLICATE_STEP' }));
  });

  it('handles a deep chain without recursion', () => {
    const steps = Array.from({ length: 50_000 }, (_, i) => ({ id: `s${i}`, needs: i === 0 ? [] : [`s${i - 1}`] })).reverse();
    const order = topologicalOrder(steps);
    expect(order[0]).toBe('s0');
    expect(order[49_999]).toBe('s49999');
  });
});

describe('findCycle', () => {
  it('finds a cycle exactly in cyclic graphs, and the cycle is real', () => {
    fc.assert(
      fc.property(randomGraph, (steps) => {
        const cycle = findCycle(steps);
        expect(cycle === undefined).toBe(isAcyclic(steps));
        if (cycle) expectValidCycle(steps, cycle);
      }),
    );
  });

  it('never finds one in a DAG', () => {
    fc.assert(fc.property(randomDag, (steps) => expect(findCycle(steps)).toBeUndefined()));
  });

  it('reports one cycle per knot, in execution order', () => {
    const steps = [
      { id: 'a', needs: ['c'] },
      { id: 'b', needs: ['a'] },
      { id: 'c', needs: ['b'] },
      { id: 'd', needs: ['a'] },
      { id: 'x', needs: ['y'] },
      { id: 'y', needs: ['x'] },
      { id: 'z', needs: ['z'] },
    ];
    expect(findCycles(steps).map(formatCycle)).toEqual(['a -> b -> c -> a', 'x -> y -> x', 'z -> z']);
    expect(findCycles(steps, { selfLoops: false })).toHaveLength(2);
  });

  it('reports the shortest cycle through the first step of a knot', () => {
    const steps = [
      { id: 'a', needs: ['d', 'b'] },
      { id: 'b', needs: ['c'] },
      { id: 'c', needs: ['d'] },
      { id: 'd', needs: ['a'] },
    ];
    expect(findCycle(steps)).toEqual(['a', 'd']);
  });
});

describe('reachability', () => {
  const pairsIn = (steps: DagNode[]): [string, string][] => steps.flatMap((a) => steps.map((b): [string, string] => [a.id, b.id]));

  it('agrees with a BFS oracle on every pair, asked in any order (DAGs and cyclic graphs)', () => {
    fc.assert(
      fc.property(
        fc.oneof(randomDag, randomGraph).chain((steps) => fc.tuple(fc.constant(steps), fc.shuffledSubarray(pairsIn(steps), { minLength: pairsIn(steps).length }))),
        ([steps, pairs]) => {
          const index = reachability(steps);
          for (const [a, b] of pairs) expect(index.isUpstream(a, b)).toBe(ancestors(steps, b).has(a));
        },
      ),
    );
  });

  it('treats unknown steps as unrelated', () => {
    const index = reachability([{ id: 'a' }, { id: 'b', needs: ['a', 'ghost'] }]);
    expect(index.isUpstream('a', 'b')).toBe(true);
    expect(index.isUpstream('ghost', 'b')).toBe(false);
    expect(index.isUpstream('a', 'ghost')).toBe(false);
  });

  it('stays fast on a wide layered DAG where everything reads the first step', () => {
    const width = 100;
    const steps: DagNode[] = [{ id: 'root' }];
    for (let layer = 0; layer < 200; layer++) {
      for (let k = 0; k < width; k++) {
        const prev = layer === 0 ? ['root'] : [`l${layer - 1}_${k}`, `l${layer - 1}_${(k + 1) % width}`];
        steps.push({ id: `l${layer}_${k}`, needs: prev });
      }
    }
    steps.push({ id: 'lonely' });
    const index = reachability(steps);
    const started = performance.now();
    const answers = steps.slice(1, -1).map((s) => index.isUpstream('root', s.id));
    const elapsed = performance.now() - started;
    expect(answers.every(Boolean)).toBe(true);
    expect(index.isUpstream('l199_0', 'l0_0')).toBe(false);
    // Answered from the root's descendant set by now: still exact.
    expect(index.isUpstream('root', 'lonely')).toBe(false);
    expect(index.isUpstream('root', 'root')).toBe(false);
    // 20k questions about one far-away target: searching each time would take seconds.
    expect(elapsed).toBeLessThan(1000);
  });
});

describe('graph helpers', () => {
  it('upstreamOf / downstreamOf / dependentsIndex agree with the oracle', () => {
    fc.assert(
      fc.property(fc.oneof(randomDag, randomGraph), (steps) => {
        const deps = dependentsIndex(steps);
        for (const s of steps) {
          expect(new Set(upstreamOf(steps, s.id))).toEqual(ancestors(steps, s.id));
          const below = steps.filter((t) => t.id !== s.id && ancestors(steps, t.id).has(s.id)).map((t) => t.id);
          expect(downstreamOf(steps, s.id).sort()).toEqual(below.sort());
          const direct = steps.filter((t) => (t.needs ?? []).includes(s.id)).map((t) => t.id);
          expect(deps.get(s.id)).toEqual(direct);
        }
      }),
    );
  });

  it('lists results in declaration order and ignores unknown ids', () => {
    const steps = [{ id: 'c' }, { id: 'a', needs: ['c'] }, { id: 'b', needs: ['c', 'a'] }];
    expect(upstreamOf(steps, 'b')).toEqual(['c', 'a']);
    expect(downstreamOf(steps, 'c')).toEqual(['a', 'b']);
    expect(upstreamOf(steps, 'nope')).toEqual([]);
  });
});
