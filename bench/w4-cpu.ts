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
import { readdirSync, readFileSync } from 'node:fs';
import { adminQuery } from './lib/pg.util';
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
    const pgPids = async () => (await adminQuery<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [system.database])).map((row) => row.pid);
    const before = cpuSnapshot(await pgPids());
    const countersBefore = await system.counters();
    const result = await sustained(system, { rate, seconds, steps: STEPS, drainMs: 30_000 });
    const after = cpuSnapshot(await pgPids());
    const countersAfter = await system.counters();
    const steps = (result.started - result.undrained - result.errors) * STEPS;
    const processes = Object.keys(after).filter((k) => !k.endsWith(' kernel'));
    const perStep = processes.map((k) => `${k} ${((after[k] - (before[k] ?? 0)) / steps).toFixed(3)} (kernel ${((after[`${k} kernel`] - (before[`${k} kernel`] ?? 0)) / steps).toFixed(3)})`);
    const total = processes.reduce((sum, k) => sum + after[k] - (before[k] ?? 0), 0) / steps;
    console.log(`${rate} runs/s x ${STEPS} steps for ${seconds} s: ${steps / STEPS} runs finished (${result.undrained} undrained), ${result.stepsPerSec.toFixed(0)} steps/s in the window, e2e p50 ${result.latencyP50Ms.toFixed(0)} ms, p99 ${result.latencyP99Ms.toFixed(0)} ms`);
    console.log(`CPU per step (ms): ${perStep.join(', ')}; total ${total.toFixed(3)}`);
    const delta = (key: string): number => (countersAfter[key] ?? 0) - (countersBefore[key] ?? 0);
    const writes = Object.keys(countersAfter).filter((k) => k.startsWith('writes.'));
    console.log(`per step: pg round trips ${(delta('pg.total') / steps).toFixed(3)}, ${writes.map((k) => `${k.slice(7)} ${(delta(k) / steps).toFixed(3)}`).join(', ')}`);
    console.log(`runs per write ${(delta('writes.batches') / delta('writes.writes')).toFixed(2)}, per group statement ${(delta('writes.groupStatementRuns') / delta('writes.groupStatements')).toFixed(2)}; PostgreSQL connections ${(await pgPids()).length}`);
  } finally {
    await system.teardown();
  }
}

/** CPU (user + system, ms) from /proc: this process, its children (the executor), the given PostgreSQL backends, nats-server; `<name> kernel` is the system part. */
function cpuSnapshot(pgPids: number[]): Record<string, number> {
  const stat = (pid: number | string): string => {
    try {
      return readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return '';
    }
  };
  /** [user, system] ms. */
  const ticks = (pid: number | string): [number, number] => {
    const fields = stat(pid).split(') ')[1]?.split(' ');
    return fields === undefined ? [0, 0] : [Number(fields[11]) * 10, Number(fields[12]) * 10];
  };
  const procs = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  const children = procs.filter((pid) => stat(pid).split(') ')[1]?.split(' ')[1] === String(process.pid));
  const nats = procs.filter((pid) => stat(pid).includes('(nats-server)'));
  const groups: Record<string, (number | string)[]> = { scheduler: [process.pid], executor: children, postgres: pgPids, 'nats-server': nats };
  const snapshot: Record<string, number> = {};
  for (const [name, pids] of Object.entries(groups)) {
    const [user, system] = pids.map(ticks).reduce(([u, s], [pu, ps]) => [u + pu, s + ps], [0, 0]);
    snapshot[name] = user + system;
    snapshot[`${name} kernel`] = system;
  }
  return snapshot;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
