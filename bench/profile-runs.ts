/**
 * A CPU profile of runs only (no start-up, no warm-up): one Weft system in this process,
 * warmed up, then the inspector's profiler around `--runs` runs of one shape, one after another.
 *
 *   node -r @swc-node/register bench/profile-runs.ts [--shape W2] [--runs 5] [--warmup 3]
 *        [--out /tmp/weft-runs.cpuprofile] [--no-profile]
 *   node -r @swc-node/register bench/profile-summary.ts /tmp/weft-runs.cpuprofile
 *
 * Embedded only (weft-embedded, concurrency 16 as in bench/run.ts); prints each run's makespan and
 * the process's CPU time per run (user + system; `--no-profile` leaves the profiler out of it).
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { type Shape } from './lib/system.port';
import { runOnce } from './lib/workloads';
import { WeftEmbedded } from './systems/weft.system';

const SHAPES: Record<string, Shape> = {
  W1: { kind: 'chain', steps: 100 },
  W2: { kind: 'fan', width: 1000 },
  W3: { kind: 'diamond', layers: 10, width: 10 },
};

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

async function main(): Promise<void> {
  const shape = SHAPES[flag('shape', 'W2')];
  if (!shape) throw new Error(`--shape: one of ${Object.keys(SHAPES).join(', ')}`);
  const runs = Number(flag('runs', '5'));
  const warmup = Number(flag('warmup', '3'));
  const out = flag('out', '/tmp/weft-runs.cpuprofile');
  const system = new WeftEmbedded(16);
  await system.setup();
  try {
    for (let i = 0; i < warmup; i++) await runOnce(system, shape);
    const profiling = !process.argv.includes('--no-profile');
    const session = new Session();
    if (profiling) {
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 200 });
      await session.post('Profiler.start');
    }
    const times: number[] = [];
    const cpuMs: number[] = [];
    for (let i = 0; i < runs; i++) {
      const cpu = process.cpuUsage();
      times.push((await runOnce(system, shape)).makespanMs);
      const used = process.cpuUsage(cpu);
      cpuMs.push((used.user + used.system) / 1000);
    }
    if (profiling) {
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      writeFileSync(out, JSON.stringify(profile));
    }
    // CPU time is what a lever changes (its minimum over the runs is the least disturbed by other load); makespans also move with the machine's load.
    const sorted = [...cpuMs].sort((a, b) => a - b);
    const cpu = `CPU ms per run: min ${sorted[0].toFixed(0)}, median ${sorted[Math.floor(sorted.length / 2)].toFixed(0)}`;
    console.log(`makespans ms: ${times.map((t) => t.toFixed(0)).join(', ')}; ${cpu}${profiling ? `; profile: ${out}` : ''}`);
  } finally {
    await system.teardown();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
