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
import { type HeapProfileNode, sumHeapProfile, topPerStep } from './lib/heap-profile.util';
import { WeftEmbedded } from './systems/weft.system';

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
  const { profile } = (await session.post('HeapProfiler.stopSampling')) as { profile: { head: HeapProfileNode } };
  session.disconnect();
  const { self, inclusive, totalBytes: total } = sumHeapProfile(profile.head);
  console.log(`${steps} steps in ${ms.toFixed(0)} ms; sampled allocations ${(total / 1e6).toFixed(0)} MB = ${(total / steps / 1024).toFixed(1)} KB per step`);
  console.log('self:\n' + topPerStep(self, steps, 25));
  console.log('inclusive (weft):\n' + topPerStep(new Map([...inclusive].filter(([k]) => /libs\/|services\//.test(k))), steps, 30));
  await system.teardown();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
