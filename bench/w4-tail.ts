/**
 * Where W4's tail comes from: distributed Weft under W4's load (5-step chains at a constant rate,
 * scheduler in this process, executor in a child), with a timeline sampled every 100 ms of each
 * process group's CPU (/proc: this process, the executor, every PostgreSQL process of the cluster
 * including the checkpointer and autovacuum workers, nats-server), PostgreSQL's autovacuum workers
 * and checkpoints, and this process's garbage collections. Prints the slowest runs, each with what
 * the timeline held while it was in flight, and how often each kind of event overlapped a slow run
 * against any run.
 *
 * W4_TAIL_SURVIVORS=1 also samples, in this process, the allocations that survived a scavenge
 * (V8's sampling heap profiler, as bench/alloc-profile.ts with ALLOC_SURVIVORS=1): what the
 * scheduler promotes to the old generation, whose collections are the slow runs' GCs;
 * W4_TAIL_ALLOCATIONS=1 every allocation, collected or not.
 *
 * W4_TAIL_BIG=<steps> starts a flat run of that many steps with the window (W6's shape, distributed):
 * what the small runs beside it overlap.
 *
 *   node -r @swc-node/register bench/w4-tail.ts [runsPerSecond=80] [seconds=30] [slowMs=100]
 */
import { Session } from 'node:inspector/promises';
import { constants, type PerformanceEntry, PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import { type HeapProfileNode, sumHeapProfile, topPerStep } from './lib/heap-profile.util';
import { adminQuery } from './lib/pg.util';
import { cpuSnapshot, cpuSpent, pidsNamed, type ProcessGroups } from './lib/proc-cpu.util';
import { quantile } from './lib/stats.util';
import { sustained } from './lib/workloads';
import { WeftDistributed } from './systems/weft.system';

const STEPS = 5;
const TICK_MS = 100;

interface Tick {
  at: number;
  cpu: Record<string, number>;
  autovacuum: string[];
  checkpoints: number;
  /** This process's old space in use, MB. */
  oldMb: number;
}

/** A small run: its scheduled start and end (performance.now() ms) and its e2e latency. */
interface Run {
  start: number;
  end: number;
  ms: number;
}

interface Gc {
  at: number;
  ms: number;
  kind: string;
}

/** KB per step by frame, self and inclusive, of what survived a scavenge (or of every allocation). */
function printSurvivors(head: HeapProfileNode, steps: number, what: string): void {
  const { self, inclusive, totalBytes } = sumHeapProfile(head);
  console.log(`\n${what}: ${(totalBytes / 1e6).toFixed(1)} MB sampled = ${(totalBytes / steps / 1024).toFixed(2)} KB per step`);
  console.log('self:\n' + topPerStep(self, steps, 20));
  console.log('inclusive (weft and bench):\n' + topPerStep(new Map([...inclusive].filter(([k]) => /libs\/|services\/|bench\//.test(k))), steps, 30));
}

const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'mark-compact',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak-cb',
};

async function main(): Promise<void> {
  const rate = Number(process.argv[2] ?? 80);
  const seconds = Number(process.argv[3] ?? 30);
  const slowMs = Number(process.argv[4] ?? 100);
  const system = new WeftDistributed({ concurrency: 16 });
  await system.setup();
  const gcs: Gc[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcs.push({ at: entry.startTime, ms: entry.duration, kind: GC_KINDS[(entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? 0] ?? 'gc' });
  });
  try {
    await sustained(system, { rate, seconds: 3, steps: STEPS, drainMs: 10_000 });
    const own = await system.processes();
    const pids: ProcessGroups = { scheduler: [process.pid], executor: own.executor ?? [], postgres: pidsNamed('postgres'), 'nats-server': own['nats-server'] ?? [] };
    const ticks: Tick[] = [];
    let sampling = true;
    const sample = async (): Promise<void> => {
      let previous = cpuSnapshot(pids);
      while (sampling) {
        await new Promise((resolve) => setTimeout(resolve, TICK_MS));
        const now = cpuSnapshot(pids);
        const spent = cpuSpent(previous, now);
        previous = now;
        const [activity, bgwriter] = await Promise.all([
          adminQuery<{ query: string }>(`SELECT query FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'`),
          adminQuery<{ n: string }>('SELECT (checkpoints_timed + checkpoints_req)::text AS n FROM pg_stat_bgwriter'),
        ]);
        ticks.push({
          at: performance.now(),
          cpu: Object.fromEntries(Object.entries(spent).map(([role, { totalMs }]) => [role, totalMs])),
          autovacuum: activity.map((row) => row.query.replace(/^autovacuum: /, '')),
          checkpoints: Number(bgwriter[0]?.n ?? 0),
          oldMb: (getHeapSpaceStatistics().find((space) => space.space_name === 'old_space')?.space_used_size ?? 0) / 1e6,
        });
      }
    };
    observer.observe({ entryTypes: ['gc'] });
    const allocations = process.env.W4_TAIL_ALLOCATIONS === '1';
    const session = process.env.W4_TAIL_SURVIVORS === '1' || allocations ? new Session() : undefined;
    if (session) {
      session.connect();
      // The two include flags are in V8's protocol (Node 20's V8 has them) but not in @types/node's.
      const profiling = { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: allocations };
      await session.post('HeapProfiler.startSampling', profiling as { samplingInterval: number });
    }
    const sampler = sample();
    const runs: Run[] = [];
    const bigSteps = Number(process.env.W4_TAIL_BIG ?? 0);
    if (bigSteps > 0) system.prepare({ kind: 'flat', steps: bigSteps });
    const big = bigSteps > 0 ? system.start({ kind: 'flat', steps: bigSteps }).then(async (run) => { const outcome = await run.finished; return { ms: outcome.finishedAt - outcome.submittedAt }; }) : undefined;
    const result = await sustained(system, { rate, seconds, steps: STEPS, drainMs: 30_000, onFinished: (start, ms) => runs.push({ start, end: start + ms, ms }) });
    if (big) console.log(`big run: ${bigSteps} steps in ${((await big).ms / 1000).toFixed(1)} s`);
    sampling = false;
    await sampler;
    observer.disconnect();
    if (session) {
      const { profile } = (await session.post('HeapProfiler.stopSampling')) as { profile: { head: HeapProfileNode } };
      session.disconnect();
      printSurvivors(profile.head, runs.length * STEPS, allocations ? 'allocated' : 'survived a scavenge');
    }

    const latencies = runs.map((run) => run.ms);
    console.log(`${rate} runs/s x ${STEPS} steps for ${seconds} s: ${result.stepsPerSec.toFixed(0)} steps/s, e2e p50 ${quantile(latencies, 0.5).toFixed(1)} ms, p99 ${quantile(latencies, 0.99).toFixed(1)} ms, max ${Math.max(...latencies).toFixed(0)} ms; ${runs.filter((r) => r.ms >= slowMs).length} runs >= ${slowMs} ms`);
    const roles = Object.keys(pids);
    const mean = (role: string): number => ticks.reduce((sum, tick) => sum + (tick.cpu[role] ?? 0), 0) / Math.max(1, ticks.length);
    console.log(`CPU ms per ${TICK_MS} ms tick, mean: ${roles.map((role) => `${role} ${mean(role).toFixed(1)}`).join(', ')}`);
    // What each run overlapped: the ticks and the collections while it was in flight.
    const overlapped = new Map(
      runs.map((run) => [
        run,
        { ticks: ticks.filter((tick) => tick.at >= run.start && tick.at - TICK_MS <= run.end), gcs: gcs.filter((gc) => gc.at + gc.ms >= run.start && gc.at <= run.end) },
      ]),
    );
    const during = (run: Run) => overlapped.get(run) as { ticks: Tick[]; gcs: Gc[] };
    const describe = (run: Run): string => {
      const { ticks: seen, gcs: collected } = during(run);
      const cpu = roles.map((role) => `${role} ${Math.max(0, ...seen.map((tick) => tick.cpu[role] ?? 0))}`).join(' ');
      const vacuum = [...new Set(seen.flatMap((tick) => tick.autovacuum))].join('; ');
      const checkpoint = seen.length > 1 && seen[seen.length - 1].checkpoints > seen[0].checkpoints ? ' checkpoint' : '';
      const gc = collected.map((g) => `${g.kind} ${g.ms.toFixed(1)}`).join(', ');
      return `t=${((run.start - ticks[0].at) / 1000).toFixed(1)} s ${run.ms.toFixed(0)} ms | max CPU/tick: ${cpu} | gc: ${gc || '-'} | autovacuum: ${vacuum || '-'}${checkpoint}`;
    };
    console.log('\nslowest runs:');
    for (const run of [...runs].sort((a, b) => b.ms - a.ms).slice(0, 25)) console.log(describe(run));

    // How often each thing overlapped a slow run, against every run.
    const share = (pick: (run: Run) => boolean, of: readonly Run[]): string => `${((100 * of.filter(pick).length) / Math.max(1, of.length)).toFixed(0)} %`;
    const slow = runs.filter((run) => run.ms >= slowMs);
    const overlaps: [string, (run: Run) => boolean][] = [
      ['any autovacuum', (run) => during(run).ticks.some((tick) => tick.autovacuum.length > 0)],
      ['a GC >= 5 ms in the scheduler', (run) => during(run).gcs.some((gc) => gc.ms >= 5)],
      ['a mark-compact in the scheduler', (run) => during(run).gcs.some((gc) => gc.kind === 'mark-compact')],
      ['postgres >= 100 ms CPU in a tick', (run) => during(run).ticks.some((tick) => (tick.cpu.postgres ?? 0) >= 100)],
      ['scheduler >= 60 ms CPU in a tick', (run) => during(run).ticks.some((tick) => (tick.cpu.scheduler ?? 0) >= 60)],
      ['nats-server >= 40 ms CPU in a tick', (run) => during(run).ticks.some((tick) => (tick.cpu['nats-server'] ?? 0) >= 40)],
    ];
    console.log(`\nshare of runs in flight with ...: slow (>= ${slowMs} ms, ${slow.length}) vs all (${runs.length})`);
    for (const [name, pick] of overlaps) console.log(`  ${name}: ${share(pick, slow)} vs ${share(pick, runs)}`);
    const checkpoints = ticks.length > 0 ? ticks[ticks.length - 1].checkpoints - ticks[0].checkpoints : 0;
    console.log(`checkpoints during the window: ${checkpoints}; autovacuum seen in ${ticks.filter((tick) => tick.autovacuum.length > 0).length} of ${ticks.length} ticks`);
    const kinds = [...new Set(gcs.map((g) => g.kind))];
    console.log(`scheduler GCs over ${seconds} s: ${kinds.map((kind) => { const of = gcs.filter((g) => g.kind === kind); return `${kind} ${of.length} (total ${of.reduce((sum, g) => sum + g.ms, 0).toFixed(0)} ms, >= 5 ms: ${of.filter((g) => g.ms >= 5).length}, max ${Math.max(...of.map((g) => g.ms)).toFixed(1)})`; }).join(', ')}`);
    const old = ticks.map((tick) => tick.oldMb);
    console.log(`old space MB every 2 s: ${old.filter((_, i) => i % 20 === 0).map((mb) => mb.toFixed(0)).join(' ')}`);
  } finally {
    await system.teardown();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
