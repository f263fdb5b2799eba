/**
 * Where embedded Weft allocates per step: one `steps`-step flat run (after a 2,000-step warm-up
 * run) under V8's sampling heap profiler, counting objects a scavenge or a mark-compact collected
 * too (so it is allocation, not what stays live). Prints KB allocated per step by frame (self) and
 * by Weft frame (inclusive). A big run's young-generation collections copy what survives, so
 * allocation per step is what W6's embedded tail pays in scavenges (docs/benchmarks.md, session 9).
 * ALLOC_SURVIVORS=1 leaves out what a scavenge collected: what survived the young generation
 * (promoted, then live or collected by a mark-compact), the part a scavenge copies (session 14).
 *
 *   node -r @swc-node/register bench/alloc-profile.ts [steps=20000]
 */
import { Session } from 'node:inspector/promises';
import { type CallFrame, frameKey } from './profile-summary';
import { WeftEmbedded } from './systems/weft.system';

interface ProfileNode {
  callFrame: CallFrame;
  selfSize: number;
  children: ProfileNode[];
}

async function main(): Promise<void> {
  const steps = Number(process.argv[2] ?? 20000);
  const system = new WeftEmbedded(16);
  await system.setup();
  system.prepare({ kind: 'flat', steps });
  await (await system.start({ kind: 'flat', steps: 2000 })).finished; // warm
  const session = new Session();
  session.connect();
  // The two include flags are in V8's protocol (Node 20's V8 has them) but not in @types/node's.
  const sampling = { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: process.env.ALLOC_SURVIVORS !== '1' };
  await session.post('HeapProfiler.startSampling', sampling as { samplingInterval: number });
  const t0 = performance.now();
  await (await system.start({ kind: 'flat', steps })).finished;
  const ms = performance.now() - t0;
  const { profile } = (await session.post('HeapProfiler.stopSampling')) as { profile: { head: ProfileNode } };
  session.disconnect();
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  /** Adds a node's bytes to its frame (self) and its subtree's to each distinct frame on the path (inclusive). */
  const walk = (node: ProfileNode, onPath: ReadonlySet<string>): number => {
    const key = frameKey(node.callFrame);
    self.set(key, (self.get(key) ?? 0) + node.selfSize);
    total += node.selfSize;
    const path = onPath.has(key) ? onPath : new Set([...onPath, key]);
    let sum = node.selfSize;
    for (const child of node.children) sum += walk(child, path);
    if (!onPath.has(key)) inclusive.set(key, (inclusive.get(key) ?? 0) + sum);
    return sum;
  };
  walk(profile.head, new Set());
  console.log(`${steps} steps in ${ms.toFixed(0)} ms; sampled allocations ${(total / 1e6).toFixed(0)} MB = ${(total / steps / 1024).toFixed(1)} KB per step`);
  const top = (m: Map<string, number>, n: number): string => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => `${(v / steps / 1024).toFixed(2).padStart(7)} KB/step  ${k}`).join('\n');
  console.log('self:\n' + top(self, 25));
  console.log('inclusive (weft):\n' + top(new Map([...inclusive].filter(([k]) => /libs\/|services\//.test(k))), 30));
  await system.teardown();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
