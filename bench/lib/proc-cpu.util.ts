/**
 * CPU time of processes from /proc (Linux): what a system's other processes (an executor,
 * PostgreSQL backends, nats-server, redis-server) spent over a window, so a workload's CPU per
 * step covers every process that served it, not only the load generator's.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { adminQuery } from './pg.util';
import { fmt } from './stats.util';

/** Processes of a system by role: `executor`, `postgres`, `nats-server`, ... */
export type ProcessGroups = Record<string, number[]>;

/** CPU ms (user, system) of each process and role at one moment. */
export interface CpuSnapshot {
  /** role -> pid -> [user ms, system ms] */
  byRole: Record<string, Map<number, [number, number]>>;
}

/** Kernel clock ticks per second: 100 on every Linux this runs on (USER_HZ). */
const TICK_MS = 10;

function stat(pid: number | string): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ');
  } catch {
    return undefined;
  }
}

/** [user ms, system ms] of a process, or undefined when it is gone. */
export function processCpuMs(pid: number): [number, number] | undefined {
  const fields = stat(pid);
  return fields === undefined ? undefined : [Number(fields[11]) * TICK_MS, Number(fields[12]) * TICK_MS];
}

/** Pids whose command name is `name` (nats-server, redis-server). */
export function pidsNamed(name: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === name) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** Direct children of a process. */
export function childPids(parent: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry) && stat(entry)?.[1] === String(parent))
    .map(Number);
}

/** PostgreSQL backends connected to a database now. */
export async function backendPids(database: string): Promise<number[]> {
  return (await adminQuery<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [database])).map((row) => row.pid);
}

export function cpuSnapshot(groups: ProcessGroups): CpuSnapshot {
  const byRole: CpuSnapshot['byRole'] = {};
  for (const [role, pids] of Object.entries(groups)) {
    const times = new Map<number, [number, number]>();
    for (const pid of pids) {
      const t = processCpuMs(pid);
      if (t !== undefined) times.set(pid, t);
    }
    byRole[role] = times;
  }
  return { byRole };
}

/**
 * CPU ms spent by each role between two snapshots, and its kernel part. A process only in
 * `after` started in the window and counts from zero; one gone by `after` is not counted.
 */
export function cpuSpent(before: CpuSnapshot, after: CpuSnapshot): Record<string, { totalMs: number; kernelMs: number }> {
  const spent: Record<string, { totalMs: number; kernelMs: number }> = {};
  for (const [role, times] of Object.entries(after.byRole)) {
    let user = 0;
    let system = 0;
    for (const [pid, [u, s]] of times) {
      const [u0, s0] = before.byRole[role]?.get(pid) ?? [0, 0];
      user += u - u0;
      system += s - s0;
    }
    spent[role] = { totalMs: user + system, kernelMs: system };
  }
  return spent;
}

/** CPU ms per step by role (`<role>`) and its kernel part (`<role> kernel`). */
export function perStep(spent: Record<string, { totalMs: number; kernelMs: number }>, steps: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [role, { totalMs, kernelMs }] of Object.entries(spent)) {
    out[role] = totalMs / steps;
    out[`${role} kernel`] = kernelMs / steps;
  }
  return out;
}

/** "scheduler 0.9 ms (kernel 0.1), postgres 1.2 ms (kernel 0.2); total 2.1 ms" from perStep's record. */
export function describePerStep(byRole: Record<string, number>): string {
  const roles = Object.keys(byRole).filter((k) => !k.endsWith(' kernel'));
  const total = roles.reduce((sum, role) => sum + byRole[role], 0);
  return `${roles.map((role) => `${role} ${fmt(byRole[role], 3)} ms (kernel ${fmt(byRole[`${role} kernel`], 3)})`).join(', ')}; total ${fmt(total, 3)} ms`;
}
