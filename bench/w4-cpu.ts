/**
 * W4's CPU budget per step in distributed Weft: 5-step chains started at a constant rate (as W4),
 * scheduler in this process, executor in a child, PostgreSQL and NATS; CPU of each process from
 * /proc over the window and the drain after it, divided by the steps completed. Run it in two
 * worktrees alternately to compare a change (the machine is shared: CPU, not wall, is the measure).
 *
 *   node -r @swc-node/register bench/w4-cpu.ts [runsPerSecond=30] [seconds=20]
 *
 * Also prints, per step, the scheduler's PostgreSQL round trips and its store's write counters
 * (SqlRunStore.writeStats: writes, lone and group statements, transactions, batches whose run was
 * not cached). W4_CACHE_MAX=1000 keeps the state cache from growing (as before session 7).
 */
import { cpuSnapshot, cpuSpent, describePerStep, perStep, type ProcessGroups } from './lib/proc-cpu.util';
import { sustained } from './lib/workloads';
import { WeftDistributed } from './systems/weft.system';

const STEPS = 5;

async function main(): Promise<void> {
  const rate = Number(process.argv[2] ?? 30);
  const seconds = Number(process.argv[3] ?? 20);
  const cacheMax = process.env.W4_CACHE_MAX;
  const system = new WeftDistributed({ concurrency: 16, ...(cacheMax !== undefined && { stateCacheMaxSize: Number(cacheMax) }) });
  await system.setup();
  try {
    // Warm-up: the first runs compile and plan.
    await sustained(system, { rate, seconds: 2, steps: STEPS, drainMs: 10_000 });
    // The scheduler is this process; the executor, PostgreSQL backends and nats-server are the system's others.
    const groups = async (): Promise<ProcessGroups> => ({ scheduler: [process.pid], ...(await system.processes()) });
    const before = cpuSnapshot(await groups());
    const countersBefore = await system.counters();
    const result = await sustained(system, { rate, seconds, steps: STEPS, drainMs: 30_000 });
    const spent = cpuSpent(before, cpuSnapshot(await groups()));
    const countersAfter = await system.counters();
    const steps = (result.started - result.undrained - result.errors) * STEPS;
    console.log(`${rate} runs/s x ${STEPS} steps for ${seconds} s: ${steps / STEPS} runs finished (${result.undrained} undrained), ${result.stepsPerSec.toFixed(0)} steps/s in the window, e2e p50 ${result.latencyP50Ms.toFixed(0)} ms, p99 ${result.latencyP99Ms.toFixed(0)} ms`);
    console.log(`CPU per step (window and drain): ${describePerStep(perStep(spent, steps))}`);
    const delta = (key: string): number => (countersAfter[key] ?? 0) - (countersBefore[key] ?? 0);
    const writes = Object.keys(countersAfter).filter((k) => k.startsWith('writes.'));
    console.log(`per step: pg round trips ${(delta('pg.total') / steps).toFixed(3)}, ${writes.map((k) => `${k.slice(7)} ${(delta(k) / steps).toFixed(3)}`).join(', ')}`);
    console.log(`runs per write ${(delta('writes.batches') / delta('writes.writes')).toFixed(2)}, per group statement ${(delta('writes.groupStatementRuns') / delta('writes.groupStatements')).toFixed(2)}; PostgreSQL connections ${(await system.processes()).postgres.length}`);
  } finally {
    await system.teardown();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
